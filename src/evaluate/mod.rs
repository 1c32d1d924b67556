//! Rego evaluation: the embedded regorus engine, compiled once per run with
//! the built-in and user rules, evaluated once over the whole input. Every
//! package under `data.govops.rules` may define the sets `deny`, `review` and
//! `warn`; their elements are findings.

use crate::error::{Error, Result};
use crate::finding::{RawFinding, Severity};
use crate::input::Input;
use crate::input::PolicyProblem;
use crate::policy::{Policy, PolicyRef, RuleFile};
use regorus::utils::limits::ExecutionTimerConfig;
use regorus::{Engine, Value};
use serde_json::Value as Json;
use std::num::NonZeroU32;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

pub mod testing;
mod value;

/// The root package of govops rules.
pub const ROOT: &str = "data.govops.rules";

pub struct Evaluator {
    engine: Engine,
    timeout_ms: u64,
    /// Where each finding set is defined, to name a file and line when its
    /// evaluation runs out of time (regorus' own error names neither).
    definitions: Vec<Definition>,
}

/// One definition of a finding set: `deny contains f if { ... }` at file:line.
struct Definition {
    package: String,
    set: &'static str,
    file: String,
    line: usize,
}

fn definitions(rules: &[RuleFile]) -> Vec<Definition> {
    let mut out = Vec::new();
    for rule in rules.iter().filter(|r| !r.is_test()) {
        let Some(pkg) = package_name(&rule.text) else {
            continue;
        };
        for (i, line) in rule.text.lines().enumerate() {
            for set in ["deny", "review", "warn"] {
                let defines = line.strip_prefix(set).is_some_and(|rest| {
                    rest.is_empty() || rest.starts_with([' ', '[', '\t', ':', '='])
                });
                if defines {
                    out.push(Definition {
                        package: pkg.clone(),
                        set,
                        file: rule.name.clone(),
                        line: i + 1,
                    });
                }
            }
        }
    }
    out
}

/// The package a Rego file declares (`package a.b.c` at the start of a line).
/// A scan, not a regex: compiling one cost the commit-msg hook more than the
/// scan of every built-in rule.
fn package_name(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let rest = line.strip_prefix("package")?;
        let name = rest.strip_prefix([' ', '\t'])?.trim_start();
        let end = name
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
            .unwrap_or(name.len());
        (end > 0).then(|| name[..end].to_string())
    })
}

fn is_timeout(e: &impl std::fmt::Display) -> bool {
    e.to_string().contains("exceeded time limit")
}

impl Evaluator {
    /// Compile `rules` into a fresh engine. A syntax error names file and line.
    /// Compile and analyse the policy's rules (tests left out) on another
    /// thread: it does not need the input, so it runs while the repository
    /// is read.
    pub fn compile_in_background(policy: &Policy) -> std::thread::JoinHandle<Result<Evaluator>> {
        let rules: Vec<RuleFile> = policy
            .rules
            .iter()
            .filter(|r| !r.is_test())
            .cloned()
            .collect();
        let timeout = policy.config.config.limits.eval_timeout_ms;
        std::thread::spawn(move || {
            let mut evaluator = Evaluator::new(&rules, timeout)?;
            evaluator.prepare()?;
            crate::timing::mark("rules compiled (in parallel)");
            Ok(evaluator)
        })
    }

    pub fn new(rules: &[RuleFile], timeout_ms: u64) -> Result<Self> {
        let mut engine = Engine::new();
        engine.set_rego_v0(false);
        engine.set_execution_timer_config(ExecutionTimerConfig {
            limit: Duration::from_millis(timeout_ms),
            check_interval: NonZeroU32::new(64).expect("non-zero"),
        });
        add_extensions(&mut engine)?;
        for rule in rules {
            engine
                .add_policy(rule.name.clone(), rule.text.clone())
                .map_err(|e| Error::Rego(format!("invalid Rego in {}: {e}", rule.name)))?;
        }
        Ok(Evaluator {
            engine,
            timeout_ms,
            definitions: definitions(rules),
        })
    }

    /// The evaluation ran out of time: find which finding set did, by asking
    /// for each alone (each with the full budget again; this is the error
    /// path), and name where it is defined.
    fn timed_out(&mut self, packages: &[String]) -> Error {
        for package in packages {
            for set in ["deny", "review", "warn"] {
                let query = format!("object.get({package}, \"{set}\", [])");
                let Err(e) = self.engine.eval_query(query, false) else {
                    continue;
                };
                if !is_timeout(&e) {
                    continue;
                }
                let name = package.trim_start_matches("data.");
                let at: Vec<String> = self
                    .definitions
                    .iter()
                    .filter(|d| d.package == name && d.set == set)
                    .map(|d| format!("{}:{}", d.file, d.line))
                    .collect();
                let at = if at.is_empty() {
                    name.to_string()
                } else {
                    at.join(", ")
                };
                return Error::Rego(format!(
                    "{at}: the rule `{set}` of package {name} ran longer than limits.eval_timeout_ms ({} ms); nothing was judged. Make the rule cheaper (iterate over what it needs, not over pairs of everything) or raise the limit",
                    self.timeout_ms
                ));
            }
        }
        Error::Rego(format!(
            "the rules ran longer than limits.eval_timeout_ms ({} ms); nothing was judged",
            self.timeout_ms
        ))
    }

    /// Analyse the compiled rules now (regorus does it on the first query), so
    /// that this can run on another thread while the input is collected.
    pub fn prepare(&mut self) -> Result<()> {
        self.engine
            .eval_query("true".to_string(), false)
            .map(|_| ())
            .map_err(|e| Error::Rego(format!("invalid Rego: {e}")))
    }

    /// Evaluate every rule over `input`.
    pub fn findings(&mut self, input: &Input) -> Result<Vec<RawFinding>> {
        let input = input_value(input)?;
        crate::timing::mark("evaluate: input");
        self.engine.set_input(input);
        // One name per package: regorus lists a package once per file that
        // declares it, and a package split over two files (the cloud rules
        // and their untaggable table) must not report its findings twice.
        let packages: Vec<String> = self
            .engine
            .get_packages()
            .map_err(|e| Error::Rego(e.to_string()))?
            .into_iter()
            .filter(|p| p == ROOT || p.starts_with(&format!("{ROOT}.")))
            .collect::<std::collections::BTreeSet<String>>()
            .into_iter()
            .collect();
        if packages.is_empty() {
            return Ok(Vec::new());
        }
        // Packages are independent: evaluate them in two halves, one on a
        // clone of the engine on another core (regorus evaluates on one).
        // Round robin over the sorted names spreads the built-in families.
        let half = |parity: usize| -> Vec<String> {
            packages
                .iter()
                .enumerate()
                .filter(|(i, _)| i % 2 == parity)
                .map(|(_, p)| p.clone())
                .collect()
        };
        let (mine, theirs) = (half(0), half(1));
        let mut other = self.engine.clone();
        let (json_mine, json_theirs) = std::thread::scope(|scope| {
            let helper = scope.spawn(move || finding_sets(&mut other, &theirs));
            let here = finding_sets(&mut self.engine, &mine);
            let there = helper
                .join()
                .unwrap_or_else(|_| Err(EvalError::Other("the evaluation thread panicked".into())));
            (here, there)
        });
        let (json_mine, json_theirs) = match (json_mine, json_theirs) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(EvalError::Timeout), _) | (_, Err(EvalError::Timeout)) => {
                return Err(self.timed_out(&packages))
            }
            (Err(EvalError::Other(e)), _) | (_, Err(EvalError::Other(e))) => {
                return Err(Error::Rego(format!("a rule failed while evaluating: {e}")))
            }
        };
        // Back in package order: evens from here, odds from the helper.
        let mut halves = [json_mine.into_iter(), json_theirs.into_iter()];
        let json: Vec<Json> = (0..packages.len())
            .filter_map(|i| halves[i % 2].next())
            .collect();
        let mut out = Vec::new();
        for (package, sets) in packages.iter().zip(&json) {
            let package = package.trim_start_matches("data.");
            for (severity, set) in [Severity::Deny, Severity::Review, Severity::Warn]
                .into_iter()
                .zip(sets.as_array().into_iter().flatten())
            {
                match set {
                    Json::Array(items) => {
                        for item in items {
                            out.push(parse_finding(item, severity, package)?);
                        }
                    }
                    // A rule named like a set but of another type is not a finding set.
                    _ => continue,
                }
            }
        }
        Ok(out)
    }
}

/// The input document as a regorus value, built on every core: the
/// manifests (most of it) in chunks that the threads take in turn, and the
/// rest of the document (the commits and their files, a third of the work on
/// a long range) by the main thread while the helpers start on the chunks.
/// Splitting the manifests in fixed halves left the rest serial after them.
fn input_value(input: &Input) -> Result<Value> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    const CHUNK: usize = 64;
    let failed = |e: value::ValueError| Error::Rego(format!("the input document: {e}"));
    let chunks: Vec<&[crate::input::Manifest]> = input.manifests.chunks(CHUNK).collect();
    let next = AtomicUsize::new(0);
    // Chunks in any order, each with its index, converted with one
    // converter per thread (it interns the object keys).
    let work = || -> std::result::Result<Vec<(usize, Vec<Value>)>, value::ValueError> {
        let mut conv = value::Converter::default();
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(part) = chunks.get(i) else {
                return Ok(done);
            };
            let values = part
                .iter()
                .map(|m| conv.convert(m))
                .collect::<std::result::Result<Vec<Value>, _>>()?;
            done.push((i, values));
        }
    };
    let helpers = if chunks.len() < 2 {
        // A hook or a small change: a thread would cost more than it saves.
        0
    } else {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(8)
            - 1
    };
    std::thread::scope(|scope| {
        let spawned: Vec<_> = (0..helpers).map(|_| scope.spawn(work)).collect();
        let mut doc = value::Converter::default()
            .convert_spliced(input, "manifests", Value::Null)
            .map_err(failed)?;
        let mut parts = work().map_err(failed)?;
        for helper in spawned {
            parts.extend(
                helper
                    .join()
                    .map_err(|_| Error::Rego("the input conversion thread panicked".into()))?
                    .map_err(failed)?,
            );
        }
        parts.sort_unstable_by_key(|(i, _)| *i);
        let manifests: Vec<Value> = parts.into_iter().flat_map(|(_, v)| v).collect();
        let slot = doc
            .as_object_mut()
            .ok()
            .and_then(|o| o.get_mut(&Value::from("manifests")))
            .ok_or_else(|| Error::Rego("the input document has no manifests field".into()))?;
        *slot = Value::from(manifests);
        Ok(doc)
    })
}

enum EvalError {
    Timeout,
    Other(String),
}

/// The `deny`, `review` and `warn` sets of `packages`, one JSON array of three
/// per package. Only the finding sets are asked for: the packages' other rules
/// (helper lists of manifests, for one) are evaluated but never copied out.
fn finding_sets(
    engine: &mut Engine,
    packages: &[String],
) -> std::result::Result<Vec<Json>, EvalError> {
    if packages.is_empty() {
        return Ok(Vec::new());
    }
    let query = format!(
        "[{}]",
        packages
            .iter()
            .map(|p| format!("[object.get({p}, \"deny\", []), object.get({p}, \"review\", []), object.get({p}, \"warn\", [])]"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let results = engine.eval_query(query, false).map_err(|e| {
        if is_timeout(&e) {
            EvalError::Timeout
        } else {
            EvalError::Other(e.to_string())
        }
    })?;
    let Some(value) = results
        .result
        .first()
        .and_then(|r| r.expressions.first())
        .map(|e| &e.value)
    else {
        // No result at all: no package defined a finding set.
        return Ok(vec![Json::Array(Vec::new()); packages.len()]);
    };
    let text = value
        .to_json_str()
        .map_err(|e| EvalError::Other(format!("rule results are not JSON: {e}")))?;
    match serde_json::from_str(&text) {
        Ok(Json::Array(sets)) => Ok(sets),
        Ok(_) => Err(EvalError::Other("rule results are not a list".into())),
        Err(e) => Err(EvalError::Other(format!("rule results are not JSON: {e}"))),
    }
}

fn parse_finding(item: &Json, severity: Severity, package: &str) -> Result<RawFinding> {
    let bad = |why: &str| {
        Error::Rego(format!(
            "package {package}: a {severity} finding {why}: {item}"
        ))
    };
    let (id, message, obj) = match item {
        Json::String(s) => (package.to_string(), s.clone(), None),
        Json::Object(o) => {
            let id = match o.get("id") {
                Some(Json::String(s)) if !s.is_empty() => s.clone(),
                None => package.to_string(),
                _ => return Err(bad("has an `id` that is not a string")),
            };
            let message = match o.get("message").or_else(|| o.get("msg")) {
                Some(Json::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => return Err(bad("has no `message`")),
            };
            (id, message, Some(o))
        }
        _ => return Err(bad("is neither an object nor a string")),
    };
    let text = |k: &str| {
        obj.and_then(|o| o.get(k))
            .and_then(Json::as_str)
            .map(str::to_string)
    };
    let num = |k: &str| obj.and_then(|o| o.get(k)).and_then(Json::as_u64);
    Ok(RawFinding {
        id,
        severity,
        message,
        file: text("file"),
        doc: num("doc").map(|d| d as usize),
        pointer: text("pointer"),
        line: num("line").map(|l| l as u32),
        column: num("column").map(|c| c as u32),
        commit: text("commit"),
    })
}

/// Compiled glob sets by the Rego value of their patterns. Rules pass a few
/// distinct pattern lists (protected paths, ignored paths...) many times, so
/// a short list compared by value beats hashing the patterns on every call.
type GlobCache = Mutex<Vec<(Value, globset::GlobSet)>>;

fn glob_cache() -> &'static GlobCache {
    static CACHE: OnceLock<GlobCache> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(Vec::new()))
}

fn compile_patterns(patterns: &Value) -> anyhow::Result<globset::GlobSet> {
    let list: Vec<String> = match patterns {
        Value::String(s) => vec![s.to_string()],
        Value::Array(a) => a
            .iter()
            .filter_map(|v| v.as_string().ok().map(|s| s.to_string()))
            .collect(),
        Value::Set(s) => s
            .iter()
            .filter_map(|v| v.as_string().ok().map(|s| s.to_string()))
            .collect(),
        Value::Null => Vec::new(),
        _ => anyhow::bail!("govops.glob: patterns must be a string or an array of strings"),
    };
    crate::config::globset(&list)
        .map_err(|(i, e)| anyhow::anyhow!("govops.glob: invalid glob {:?}: {e}", list[i]))
}

/// Run `f` with the compiled glob set of `patterns` (a Rego string or array).
fn with_globs<T>(patterns: &Value, f: impl FnOnce(&globset::GlobSet) -> T) -> anyhow::Result<T> {
    let mut cache = glob_cache()
        .lock()
        .map_err(|_| anyhow::anyhow!("govops.glob: cache poisoned"))?;
    let i = match cache.iter().position(|(p, _)| p == patterns) {
        Some(i) => i,
        None => {
            let set = compile_patterns(patterns)?;
            cache.push((patterns.clone(), set));
            cache.len() - 1
        }
    };
    Ok(f(&cache[i].1))
}

/// Extensions for rule authors, with govops' path semantics (`**/` spans
/// folders, `*` stays within one; Rego's own `glob.match` treats `**`
/// differently):
/// - `govops.glob(patterns, path)`: whether `path` matches one of `patterns`
///   (a string or an array of strings);
/// - `govops.glob_filter(patterns, paths)`: the set of `paths` that match, one
///   call for a whole collection (the built-in rules use it on hot paths).
fn add_extensions(engine: &mut Engine) -> Result<()> {
    engine
        .add_extension(
            "govops.glob".to_string(),
            2,
            Box::new(|params: Vec<Value>| {
                let path = params[1]
                    .as_string()
                    .map_err(|_| anyhow::anyhow!("govops.glob: the path must be a string"))?;
                with_globs(&params[0], |set| Value::from(set.is_match(path.as_ref())))
            }),
        )
        .map_err(|e| Error::Rego(format!("registering govops.glob: {e}")))?;
    engine
        .add_extension(
            "govops.glob_filter".to_string(),
            2,
            Box::new(|params: Vec<Value>| {
                let paths: Vec<Value> = match &params[1] {
                    Value::Array(a) => a.iter().cloned().collect(),
                    Value::Set(s) => s.iter().cloned().collect(),
                    _ => anyhow::bail!(
                        "govops.glob_filter: paths must be an array or a set of strings"
                    ),
                };
                with_globs(&params[0], |set| {
                    Value::from(
                        paths
                            .into_iter()
                            .filter(|p| p.as_string().is_ok_and(|s| set.is_match(s.as_ref())))
                            .collect::<std::collections::BTreeSet<Value>>(),
                    )
                })
            }),
        )
        .map_err(|e| Error::Rego(format!("registering govops.glob_filter: {e}")))
}

/// What stops a loaded policy from judging: rule ids in `severity` and
/// `waivers` that no rule has, and rules that do not compile. Every one, so
/// that `govops config validate` shows them in one run.
pub fn policy_problems(policy: &Policy) -> Vec<Error> {
    let rules: Vec<RuleFile> = policy
        .rules
        .iter()
        .filter(|r| !r.is_test())
        .cloned()
        .collect();
    let compiled = Evaluator::new(&rules, policy.config.config.limits.eval_timeout_ms)
        .and_then(|mut evaluator| evaluator.prepare());
    [policy.check_rule_references(), compiled]
        .into_iter()
        .filter_map(std::result::Result::err)
        .collect()
}

/// The problems of the policy as the head of a range has it (its config and
/// rule dirs), for a range that edits them: what would break the gate once
/// the change is merged.
pub fn head_policy_problems(
    repo: &git2::Repository,
    root: &std::path::Path,
    head: git2::Oid,
) -> Vec<PolicyProblem> {
    let config = crate::config::FILE_NAME.to_string();
    let errors = match crate::policy::load(
        repo,
        root,
        &PolicyRef::Revision(head, "head".into()),
        None,
        &[],
    ) {
        Ok(policy) => policy_problems(&policy),
        Err(e) => vec![e],
    };
    errors
        .into_iter()
        .flat_map(|e| match e {
            Error::Config(c) => c
                .problems
                .into_iter()
                .map(|p| PolicyProblem {
                    file: config.clone(),
                    line: p.line,
                    message: match p.key {
                        Some(key) => format!("{key}: {}", p.message),
                        None => p.message,
                    },
                })
                .collect(),
            other => vec![PolicyProblem {
                file: config.clone(),
                line: None,
                message: other.to_string(),
            }],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::package_name;

    #[test]
    fn package_names() {
        assert_eq!(
            package_name("# x\npackage govops.rules.team\n").as_deref(),
            Some("govops.rules.team")
        );
        assert_eq!(
            package_name("package\tteam_1 # c\n").as_deref(),
            Some("team_1")
        );
        assert_eq!(package_name("packages x\n  package indented\n"), None);
        assert_eq!(package_name("package \n"), None);
    }
}
