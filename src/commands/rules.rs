//! `govops rules list` and `govops rules show ID`.

use super::print;
use crate::catalog;
use crate::cli::{Global, RulesCommand};
use crate::error::{Error, Exit, Result};

pub fn run(_global: &Global, cmd: &RulesCommand) -> Result<Exit> {
    let docs = catalog::builtin();
    match cmd {
        RulesCommand::List { json } => {
            if *json {
                let rows: Vec<_> = docs
                    .iter()
                    .map(|d| serde_json::json!({"id": d.id, "family": d.family, "severity": d.severity, "title": d.title}))
                    .collect();
                print(&format!(
                    "{}\n",
                    serde_json::to_string_pretty(&rows).unwrap_or_default()
                ))?;
            } else {
                let mut out = format!(
                    "{:<16} {:<8} {:<8} {}\n",
                    "ID", "FAMILY", "SEVERITY", "TITLE"
                );
                for d in &docs {
                    out.push_str(&format!(
                        "{:<16} {:<8} {:<8} {}\n",
                        d.id, d.family, d.severity, d.title
                    ));
                }
                print(&out)?;
            }
        }
        RulesCommand::Show { id } => {
            let Some(d) = docs.iter().find(|d| d.id.eq_ignore_ascii_case(id)) else {
                let near = catalog::nearest(id, &docs);
                return Err(Error::Usage(format!(
                    "no rule {id:?}; did you mean {}? (`govops rules list` shows them all)",
                    near.join(" or ")
                )));
            };
            print(&format!(
                "{}: {}\nfamily: {}, default severity: {}\n\n{}\n",
                d.id, d.title, d.family, d.severity, d.body
            ))?;
        }
    }
    Ok(Exit::Pass)
}
