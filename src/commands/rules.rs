//! `govops rules list` and `govops rules show ID`: the built-in rules and the
//! team's own, documented by Markdown beside them in the policy dirs.

use super::print;
use crate::catalog::{self, RuleDoc};
use crate::cli::{Global, RulesCommand};
use crate::collect::git;
use crate::error::{Error, Exit, Result};
use crate::policy::{self, PolicyRef};
use std::path::PathBuf;

pub fn run(global: &Global, cmd: &RulesCommand) -> Result<Exit> {
    match cmd {
        RulesCommand::List { json, policy } => {
            let docs = docs(global, policy)?;
            if *json {
                let rows: Vec<_> = docs
                    .iter()
                    .map(|d| serde_json::json!({"id": d.id, "family": d.family, "severity": d.severity, "title": d.title, "source": d.source}))
                    .collect();
                print(&format!(
                    "{}\n",
                    serde_json::to_string_pretty(&rows).expect("JSON values serialise in memory")
                ))?;
            } else {
                let width = docs.iter().map(|d| d.id.len()).max().unwrap_or(0).max(15);
                let mut out = format!(
                    "{:<width$} {:<8} {:<8} {}\n",
                    "ID", "FAMILY", "SEVERITY", "TITLE"
                );
                for d in &docs {
                    out.push_str(&format!(
                        "{:<width$} {:<8} {:<8} {}\n",
                        d.id, d.family, d.severity, d.title
                    ));
                }
                print(&out)?;
            }
        }
        RulesCommand::Show { id, policy } => {
            let docs = docs(global, policy)?;
            let Some(d) = docs.iter().find(|d| d.id.eq_ignore_ascii_case(id)) else {
                let near = catalog::nearest(id, &docs);
                return Err(Error::Usage(format!(
                    "no rule {id:?}; did you mean {}? (`govops rules list` shows them all)",
                    near.join(" or ")
                )));
            };
            let source = match &d.source {
                Some(file) => format!(", documented in {file}"),
                None => String::new(),
            };
            print(&format!(
                "{}: {}\nfamily: {}, default severity: {}{source}\n\n{}\n",
                d.id, d.title, d.family, d.severity, d.body
            ))?;
        }
    }
    Ok(Exit::Pass)
}

/// The catalog as `check` would see it in the working tree: the built-in
/// rules, plus the documents in the config's policy dirs and `--policy` dirs.
/// Outside a repository (and without `-C`), the built-in rules alone.
fn docs(global: &Global, extra: &[PathBuf]) -> Result<Vec<RuleDoc>> {
    let repo = match git::open(global.repo.as_deref()) {
        Ok(repo) => repo,
        Err(_) if global.repo.is_none() && global.config.is_none() && extra.is_empty() => {
            return Ok(catalog::builtin())
        }
        Err(e) => return Err(e),
    };
    let root = git::root(&repo);
    let policy = policy::load(
        &repo,
        &root,
        &PolicyRef::Worktree,
        global.config.as_deref(),
        extra,
    )?;
    Ok(policy.docs)
}
