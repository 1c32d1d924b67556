//! Integration tests: real git repositories built in temp dirs, the real
//! `govops` binary. All in one test binary so it links once.

// Test data is built with small numbers; casts between them cannot wrap.
#![allow(clippy::cast_sign_loss, clippy::cast_possible_wrap)]

mod architecture;
mod attribution;
mod audit;
mod baseline;
mod catalog;
mod check;
mod cloud;
mod commit_msg;
mod config;
mod hooks;
mod hostile;
#[path = "../common/measure.rs"]
mod measure;
mod models;
mod precommit;
mod provenance;
mod release;
mod repo;
mod reports;
mod snapshots;
mod speed;
mod stats;
mod telemetry;
mod trailers;
mod trust;
mod trust_attack;
mod trust_audit;
mod trust_env;
mod trust_git;
mod trust_manifests;
mod trust_policy;
mod trust_reports;
mod trust_yaml;
