//! `govops test [DIR...]`: run the `test_*` rules of the built-in rules and
//! of the given dirs (like `opa test`), with per-file coverage.

use super::print;
use crate::cli::{Global, TestArgs};
use crate::error::{Error, Exit, Result};
use crate::evaluate::testing;
use crate::policy::{self, RuleFile};

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
    let measure = args.coverage || args.threshold.is_some();
    let (outcomes, coverage) = testing::run(&files, args.timeout_ms, measure)?;
    let (mut passed, mut failed) = (0usize, 0usize);
    let mut out = String::new();
    for o in &outcomes {
        match &o.failure {
            None => {
                passed += 1;
                if args.verbose_tests {
                    out.push_str(&format!("PASS {} ({})\n", o.rule, o.file));
                }
            }
            Some(why) => {
                failed += 1;
                out.push_str(&format!("FAIL {} ({}): {why}\n", o.rule, o.file));
            }
        }
    }
    let mut coverage_failed = false;
    if let Some(coverage) = coverage {
        // The threshold judges the files under test: the DIRs' when DIRs are
        // given (the built-in rules are govops' own concern), else the built-ins.
        let judged = |path: &str| {
            let builtin = files.iter().any(|f| f.builtin && f.name == path);
            builtin == args.dirs.is_empty()
        };
        let (mut covered, mut total) = (0, 0);
        out.push_str("\ncoverage:\n");
        for (path, (c, t)) in &coverage.reached {
            if judged(path) {
                covered += c;
                total += t;
            }
            out.push_str(&format!(
                "  {:>6.1}%  {path} ({c}/{t} lines)\n",
                percent(*c, *t)
            ));
        }
        for (path, code) in &coverage.untouched {
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
