//! Rego evaluation: the embedded regorus engine, compiled once per run with
//! the built-in and user rules, evaluated once over the whole input. Every
//! package under `data.govops.rules` may define the sets `deny`, `review` and
//! `warn`; their elements are findings.

use crate::error::{Error, Result};
use crate::finding::Severity;
use crate::policy::RuleFile;
use regorus::utils::limits::ExecutionTimerConfig;
use regorus::{Engine, Value};
use serde_json::Value as Json;
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// The root package of govops rules.
pub const ROOT: &str = "data.govops.rules";

/// A finding as a rule produced it, before it is located and judged.
#[derive(Debug, Clone)]
pub struct RawFinding {
    pub id: String,
    pub severity: Severity,
    pub message: String,
    pub file: Option<String>,
    pub doc: Option<usize>,
    pub pointer: Option<String>,
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub commit: Option<String>,
    /// The package that produced it, e.g. `govops.rules.tags`.
    pub package: String,
}

pub struct Evaluator {
    engine: Engine,
}

impl Evaluator {
    /// Compile `rules` into a fresh engine. A syntax error names file and line.
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
        Ok(Evaluator { engine })
    }

    pub fn engine_mut(&mut self) -> &mut Engine {
        &mut self.engine
    }

    /// Evaluate every rule over `input` (a JSON document).
    pub fn findings(&mut self, input: &str) -> Result<Vec<RawFinding>> {
        let input = Value::from_json_str(input)
            .map_err(|e| Error::Rego(format!("the input document: {e}")))?;
        self.engine.set_input(input);
        let results = self
            .engine
            .eval_query(ROOT.to_string(), false)
            .map_err(|e| Error::Rego(format!("a rule failed while evaluating: {e}")))?;
        let Some(value) = results
            .result
            .first()
            .and_then(|r| r.expressions.first())
            .map(|e| &e.value)
        else {
            return Ok(Vec::new());
        };
        let json: Json = serde_json::from_str(
            &value
                .to_json_str()
                .map_err(|e| Error::Rego(format!("rule results are not JSON: {e}")))?,
        )
        .map_err(|e| Error::Rego(format!("rule results are not JSON: {e}")))?;
        let mut out = Vec::new();
        collect(&json, "govops.rules", &mut out)?;
        Ok(out)
    }
}

/// Walk the `data.govops.rules` tree: every object holding `deny`, `review`
/// or `warn` sets is a package of rules.
fn collect(node: &Json, package: &str, out: &mut Vec<RawFinding>) -> Result<()> {
    let Json::Object(map) = node else {
        return Ok(());
    };
    for (key, value) in map {
        let severity = match key.as_str() {
            "deny" => Some(Severity::Deny),
            "review" => Some(Severity::Review),
            "warn" => Some(Severity::Warn),
            _ => None,
        };
        match (severity, value) {
            (Some(severity), Json::Array(items)) => {
                for item in items {
                    out.push(parse_finding(item, severity, package)?);
                }
            }
            (_, Json::Object(_)) => collect(value, &format!("{package}.{key}"), out)?,
            _ => {}
        }
    }
    Ok(())
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
        package: package.to_string(),
    })
}

type GlobCache = Mutex<HashMap<Vec<String>, globset::GlobSet>>;

fn glob_cache() -> &'static GlobCache {
    static CACHE: OnceLock<GlobCache> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// `govops.glob(patterns, path)`: whether `path` matches a glob (a string or
/// an array of strings) with govops' path semantics: `**/` spans folders, `*`
/// stays within one. Rego's own `glob.match` treats `**` differently, so the
/// built-in rules use this one, and user rules can too.
fn add_extensions(engine: &mut Engine) -> Result<()> {
    engine
        .add_extension(
            "govops.glob".to_string(),
            2,
            Box::new(|params: Vec<Value>| {
                let patterns: Vec<String> = match &params[0] {
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
                    _ => anyhow::bail!(
                        "govops.glob: patterns must be a string or an array of strings"
                    ),
                };
                let path = params[1]
                    .as_string()
                    .map_err(|_| anyhow::anyhow!("govops.glob: the path must be a string"))?
                    .to_string();
                let mut cache = glob_cache()
                    .lock()
                    .map_err(|_| anyhow::anyhow!("govops.glob: cache poisoned"))?;
                if !cache.contains_key(&patterns) {
                    let set = crate::config::globset(&patterns).map_err(|(i, e)| {
                        anyhow::anyhow!("govops.glob: invalid glob {:?}: {e}", patterns[i])
                    })?;
                    cache.insert(patterns.clone(), set);
                }
                Ok(Value::from(cache[&patterns].is_match(&path)))
            }),
        )
        .map_err(|e| Error::Rego(format!("registering govops.glob: {e}")))
}
