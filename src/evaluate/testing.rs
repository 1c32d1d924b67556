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

    // The tests as Rego reads them (an indented `test_` rule is one too),
    // each once however many bodies it has, in file order.
    let heads = super::heads::heads(engine).map_err(Error::Rego)?;
    let mut outcomes: Vec<Outcome> = Vec::new();
    for file in files.iter().filter(|f| f.is_test()) {
        for head in heads.iter().filter(|h| h.file == file.name) {
            if !head.is_test_rule() {
                continue;
            }
            let rule = format!("data.{}", super::heads::display(&head.path));
            if outcomes.iter().any(|o| o.rule == rule) {
                continue;
            }
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
        .filter(|f| !crate::policy::is_test_file(&f.path))
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
