//! govops: a policy-as-code gate for AI-assisted changes.
//!
//! Data flows one way: `collect` reads the repository into the input document
//! (`input`), `evaluate` runs the Rego rules over it, `finding` locates what
//! they found, `judge` settles severities, waivers, approvals and the verdict,
//! and `render` prints reports while `audit` appends the tamper-evident record. `policy` decides where config and rules are
//! read from; `commands` wires the pieces to the command line.

pub mod audit;
pub mod baseline;
pub mod catalog;
pub mod cli;
pub mod clock;
pub mod collect;
pub mod commands;
pub mod config;
pub mod deadline;
pub mod error;
pub mod evaluate;
pub mod finding;
pub mod input;
pub mod judge;
pub mod policy;
pub mod provenance;
pub mod render;
pub mod repo_path;
pub mod shape;
pub mod source;
pub mod stats;
pub mod timing;
pub mod trailers;
pub mod yaml;
