//! `govops test [DIR...]`: run the `test_*` rules of the built-in rules and
//! of the given dirs (like `opa test`), with per-file coverage.

use super::print;
use crate::cli::{Global, TestArgs};
use crate::config::Config;
use crate::error::{Error, Exit, Result};
use crate::evaluate::Evaluator;
use crate::policy::{self, RuleFile};
use regorus::Value;
use std::collections::BTreeMap;

pub fn run(_global: &Global, args: &TestArgs) -> Result<Exit> {
    let mut files = policy::builtin_rules();
    for dir in &args.dirs {
        if !dir.is_dir() {
            return Err(Error::io(dir.display(), "not a directory of Rego files"));
        }
        let found = list_dir(dir)?;
        if found.is_empty() {
            return Err(Error::io(dir.display(), "holds no .rego file"));
        }
        files.extend(found);
    }
    let mut evaluator = Evaluator::new(&files, args.timeout_ms)?;
    let defaults = serde_json::json!({"govops": {"defaults": {"config": Config::default()}}});
    let engine = evaluator.engine_mut();
    engine
        .add_data(
            Value::from_json_str(&defaults.to_string()).map_err(|e| Error::Rego(e.to_string()))?,
        )
        .map_err(|e| Error::Rego(e.to_string()))?;
    engine.set_enable_coverage(args.coverage || args.threshold.is_some());

    let test_name = regex::Regex::new(r"(?m)^(test_[A-Za-z0-9_]+)\b").expect("valid regex");
    let package = regex::Regex::new(r"(?m)^package\s+([A-Za-z0-9_.]+)").expect("valid regex");
    let (mut passed, mut failed) = (0usize, 0usize);
    let mut out = String::new();
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
            let outcome = engine.eval_rule(rule.clone());
            match outcome {
                Ok(Value::Bool(true)) => {
                    passed += 1;
                    if args.verbose_tests {
                        out.push_str(&format!("PASS {rule} ({})\n", file.name));
                    }
                }
                Ok(v) => {
                    failed += 1;
                    let why = if v == Value::Undefined {
                        "undefined".to_string()
                    } else {
                        format!("{v}")
                    };
                    out.push_str(&format!("FAIL {rule} ({}): {why}\n", file.name));
                }
                Err(e) => {
                    failed += 1;
                    out.push_str(&format!("FAIL {rule} ({}): error: {e}\n", file.name));
                }
            }
        }
    }
    let mut coverage_failed = false;
    if args.coverage || args.threshold.is_some() {
        let report = engine
            .get_coverage_report()
            .map_err(|e| Error::Rego(e.to_string()))?;
        let mut per_file: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        for f in &report.files {
            if f.path.ends_with("_test.rego") {
                continue;
            }
            per_file.insert(
                f.path.clone(),
                (f.covered.len(), f.covered.len() + f.not_covered.len()),
            );
        }
        // regorus reports only the files some test reached; a rule file no
        // test touches is 0% covered, not absent from the report (which would
        // let it slip under --threshold). Its size is its code lines.
        let mut untouched = BTreeMap::new();
        for f in files.iter().filter(|f| !f.is_test()) {
            if !per_file.contains_key(&f.name) {
                let code = f
                    .text
                    .lines()
                    .map(str::trim)
                    .filter(|l| {
                        !l.is_empty()
                            && !l.starts_with('#')
                            && !l.starts_with("package ")
                            && !l.starts_with("import ")
                    })
                    .count();
                untouched.insert(f.name.clone(), code);
            }
        }
        // The threshold judges the files under test: the DIRs' when DIRs are
        // given (the built-in rules are govops' own concern), else the built-ins.
        let judged = |path: &str| {
            let builtin = files.iter().any(|f| f.builtin && f.name == path);
            builtin == args.dirs.is_empty()
        };
        let (mut covered, mut total) = (0, 0);
        out.push_str("\ncoverage:\n");
        for (path, (c, t)) in &per_file {
            if judged(path) {
                covered += c;
                total += t;
            }
            out.push_str(&format!(
                "  {:>6.1}%  {path} ({c}/{t} lines)\n",
                percent(*c, *t)
            ));
        }
        for (path, code) in &untouched {
            if judged(path) {
                total += code;
            }
            out.push_str(&format!(
                "  {:>6.1}%  {path} (no test reaches it; {code} lines of code)\n",
                0.0
            ));
        }
        let overall = percent(covered, total);
        let what = if args.dirs.is_empty() {
            "built-in rules"
        } else {
            "rules in the given dirs"
        };
        out.push_str(&format!("  {overall:>6.1}%  total of the {what}\n"));
        if let Some(threshold) = args.threshold {
            if overall < threshold {
                coverage_failed = true;
                out.push_str(&format!(
                    "coverage {overall:.1}% is under --threshold {threshold}%\n"
                ));
            }
        }
    }
    out.push_str(&format!("{passed} passed, {failed} failed\n"));
    print(&out)?;
    Ok(if failed > 0 || coverage_failed || passed == 0 {
        Exit::Fail
    } else {
        Exit::Pass
    })
}

fn percent(covered: usize, total: usize) -> f64 {
    if total == 0 {
        100.0
    } else {
        covered as f64 * 100.0 / total as f64
    }
}

fn list_dir(dir: &std::path::Path) -> Result<Vec<RuleFile>> {
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(dir)
        .follow_links(false)
        .sort_by_file_name()
    {
        let entry = entry.map_err(|e| Error::io(dir.display(), e))?;
        let path = entry.path();
        if !entry.file_type().is_file() || path.extension().is_none_or(|e| e != "rego") {
            continue;
        }
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path.display(), e))?;
        out.push(RuleFile {
            name: path.display().to_string(),
            text,
            builtin: false,
        });
    }
    Ok(out)
}
