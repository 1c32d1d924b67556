//! Running the `test_*` rules of Rego files (as `opa test` does), with
//! per-file line coverage: what `govops test` reports.

use super::Evaluator;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::policy::RuleFile;
use regorus::Value;
use std::collections::BTreeMap;

/// One `test_*` rule and how it ended.
pub struct Outcome {
    /// `data.PACKAGE.test_NAME`
    pub rule: String,
    /// The file that defines it.
    pub file: String,
    /// None when it passed; else why not (`undefined`, the value, or the error).
    pub failure: Option<String>,
}

/// Line coverage of the rule files (test files left out).
pub struct Coverage {
    /// Files some test reached: (covered lines, coverable lines).
    pub reached: BTreeMap<String, (usize, usize)>,
    /// Files no test reached, with their lines of code: 0% covered, not
    /// absent (regorus reports only the files a test reached, which would
    /// let an untested file slip under a threshold).
    pub untouched: BTreeMap<String, usize>,
}

/// Compile `files` with the default config as `data.govops.defaults`, run
/// every `test_*` rule of the test files, in file order, each once; with
/// `coverage`, measure it.
pub fn run(
    files: &[RuleFile],
    timeout_ms: u64,
    coverage: bool,
) -> Result<(Vec<Outcome>, Option<Coverage>)> {
    let mut evaluator = Evaluator::new(files, timeout_ms)?;
    let engine = &mut evaluator.engine;
    let defaults = serde_json::json!({"govops": {"defaults": {"config": Config::default()}}});
    engine
        .add_data(
            Value::from_json_str(&defaults.to_string()).map_err(|e| Error::Rego(e.to_string()))?,
        )
        .map_err(|e| Error::Rego(e.to_string()))?;
    engine.set_enable_coverage(coverage);

    let test_name = regex::Regex::new(r"(?m)^(test_[A-Za-z0-9_]+)\b").expect("valid regex");
    let package = regex::Regex::new(r"(?m)^package\s+([A-Za-z0-9_.]+)").expect("valid regex");
    let mut outcomes = Vec::new();
    for file in files.iter().filter(|f| f.is_test()) {
        let Some(pkg) = package.captures(&file.text).map(|c| c[1].to_string()) else {
            continue;
        };
        let mut seen = Vec::new();
        for cap in test_name.captures_iter(&file.text) {
            let name = cap[1].to_string();
            if seen.contains(&name) {
                continue;
            }
            seen.push(name.clone());
            let rule = format!("data.{pkg}.{name}");
            let failure = match engine.eval_rule(rule.clone()) {
                Ok(Value::Bool(true)) => None,
                Ok(Value::Undefined) => Some("undefined".to_string()),
                Ok(v) => Some(format!("{v}")),
                Err(e) => Some(format!("error: {e}")),
            };
            outcomes.push(Outcome {
                rule,
                file: file.name.clone(),
                failure,
            });
        }
    }
    if !coverage {
        return Ok((outcomes, None));
    }
    let report = engine
        .get_coverage_report()
        .map_err(|e| Error::Rego(e.to_string()))?;
    let mut reached = BTreeMap::new();
    for f in report
        .files
        .iter()
        .filter(|f| !f.path.ends_with("_test.rego"))
    {
        reached.insert(
            f.path.clone(),
            (f.covered.len(), f.covered.len() + f.not_covered.len()),
        );
    }
    let mut untouched = BTreeMap::new();
    for f in files.iter().filter(|f| !f.is_test()) {
        if !reached.contains_key(&f.name) {
            untouched.insert(f.name.clone(), code_lines(&f.text));
        }
    }
    Ok((outcomes, Some(Coverage { reached, untouched })))
}

/// Lines of code of a Rego file: not blank, a comment, `package` or `import`.
fn code_lines(text: &str) -> usize {
    text.lines()
        .map(str::trim)
        .filter(|l| {
            !l.is_empty()
                && !l.starts_with('#')
                && !l.starts_with("package ")
                && !l.starts_with("import ")
        })
        .count()
}
