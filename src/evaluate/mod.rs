//! Rego evaluation: the embedded regorus engine, compiled once per run with
//! the built-in and user rules, evaluated once over the whole input. Every
//! package under `data.govops.rules` may define the sets `deny`, `review` and
//! `warn`; their elements are findings.

use crate::error::{Error, Result};
use crate::finding::{RawFinding, Severity};
use crate::input::Input;
use crate::input::PolicyProblem;
use crate::parallel::Task;
use crate::policy::{Policy, PolicyRef, RuleFile};
use regorus::utils::limits::ExecutionTimerConfig;
use regorus::{Engine, Value};
use serde_json::Value as Json;
use std::num::NonZeroU32;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

mod heads;
pub mod testing;
mod value;

/// The root package of govops rules, step by step.
const ROOT: [&str; 2] = ["govops", "rules"];

pub struct Evaluator {
    engine: Engine,
    timeout_ms: u64,
    /// The documents that have finding sets, and where each set is defined,
    /// to name a file and line when its evaluation fails or runs out of time
    /// (regorus' own errors name neither).
    sets: heads::FindingSets,
    /// Built-in families compiled apart, on demand (`Compiling::join`).
    apart: Option<Box<Evaluator>>,
}

fn is_timeout(e: &impl std::fmt::Display) -> bool {
    e.to_string().contains("exceeded time limit")
}

/// Whether a rule file can find anything under `config`. The opt-in
/// families (telemetry, models) judge nothing while they are disabled:
/// every rule of theirs starts from a list that is empty then. They are not
/// compiled then, which keeps the third of the built-in Rego they are out of
/// every hook's answer time. Their Rego tests run regardless (`govops test`).
fn in_force(rule: &RuleFile, config: &crate::config::Config) -> bool {
    if !rule.builtin {
        return true;
    }
    match rule.name.split('/').nth(1) {
        Some("telemetry") => config.telemetry.enabled,
        Some("models") => config.models.enabled,
        _ => true,
    }
}

/// The input list that every rule of a built-in family starts from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StartsFrom {
    Manifests,
    Plans,
}

/// What every rule of a built-in family starts from, if one list: with that
/// list empty the family finds nothing, so a hook compiles it only for a
/// change that has one (`tests/it/hook.rs` holds each family to it).
fn starts_from(rule: &RuleFile) -> Option<StartsFrom> {
    if !rule.builtin {
        return None;
    }
    match rule.name.split('/').nth(1) {
        Some("tags" | "telemetry" | "models") => Some(StartsFrom::Manifests),
        Some("cloud") => Some(StartsFrom::Plans),
        _ => None,
    }
}

/// Whether `input` has the list a family starts from.
fn has(input: &Input, list: StartsFrom) -> bool {
    match list {
        StartsFrom::Manifests => !input.manifests.is_empty(),
        StartsFrom::Plans => !input.plans.is_empty(),
    }
}

/// A compile of the built-in rules started ahead of the policy.
pub struct Ahead {
    /// Every built-in rule in force by default, to compare with the policy's.
    rules: Vec<RuleFile>,
    /// The families every change needs.
    task: Task<Result<Evaluator>>,
    /// The families that start from a list (`starts_from`), left to
    /// `Compiling::join`.
    on_demand: Vec<RuleFile>,
}

/// A compile under way, and the evaluation time limit the policy sets.
pub struct Compiling {
    task: Task<Result<Evaluator>>,
    timeout: u64,
    /// Families left out of `task` until the input shows what they start from.
    on_demand: Vec<RuleFile>,
    /// Their compile when started early (`start_on_demand`), and which of
    /// them it compiles.
    apart: Option<(Task<Result<Evaluator>>, Vec<RuleFile>)>,
}

impl Compiling {
    /// Start compiling the families left out that start from a list the
    /// change may have (`may_have`: a staged manifest, a plan), now, while
    /// the change is read: the cloud rules are most of the Rego a staged
    /// manifest would otherwise wait for. Only time depends on this guess:
    /// `join` decides, and compiles what the guess left out.
    pub fn start_on_demand(&mut self, may_have: impl Fn(StartsFrom) -> bool) {
        let rules: Vec<RuleFile> = self
            .on_demand
            .iter()
            .filter(|r| starts_from(r).is_some_and(&may_have))
            .cloned()
            .collect();
        if self.apart.is_none() && !rules.is_empty() {
            let task = Evaluator::spawn_compile(rules.clone(), self.timeout);
            self.apart = Some((task, rules));
        }
    }

    /// The compiled rules, under the policy's time limit, with every family
    /// that `input` has the list of.
    pub fn join(self, input: &Input) -> Result<Evaluator> {
        self.join_for(|list| has(input, list))
    }

    fn join_for(self, has: impl Fn(StartsFrom) -> bool) -> Result<Evaluator> {
        let mut evaluator = self.task.join()??;
        evaluator.set_timeout(self.timeout);
        let wanted: Vec<RuleFile> = self
            .on_demand
            .into_iter()
            .filter(|r| starts_from(r).is_some_and(&has))
            .collect();
        if !wanted.is_empty() {
            let started = self
                .apart
                .filter(|(_, rules)| wanted.iter().all(|w| rules.contains(w)));
            let mut apart = if let Some((task, _)) = started {
                task.join()??
            } else {
                let mut apart = Evaluator::new(&wanted, self.timeout)?;
                apart.prepare()?;
                apart
            };
            apart.set_timeout(self.timeout);
            evaluator.apart = Some(Box::new(apart));
        }
        Ok(evaluator)
    }
}

impl Evaluator {
    /// Compile `rules` into a fresh engine. A syntax error names file and line.
    /// Compile and analyse the policy's rules (tests left out) on another
    /// thread: it does not need the input, so it runs while the repository
    /// is read.
    ///
    /// `ahead` is a compile of the built-in rules alone started before the
    /// policy was read (`compile_builtin_ahead`): taken when the policy's
    /// rules are exactly those, byte for byte, and dropped otherwise.
    pub fn compile_in_background(policy: &Policy, ahead: Option<Ahead>) -> Compiling {
        let config = &policy.config.config;
        let rules: Vec<RuleFile> = policy
            .rules
            .iter()
            .filter(|r| r.is_compiled() && in_force(r, config))
            .cloned()
            .collect();
        let timeout = policy.config.config.limits.eval_timeout_ms;
        if let Some(ahead) = ahead.filter(|a| a.rules == rules) {
            return Compiling {
                task: ahead.task,
                timeout,
                on_demand: ahead.on_demand,
                apart: None,
            };
        }
        Compiling {
            task: Self::spawn_compile(rules, timeout),
            timeout,
            on_demand: Vec::new(),
            apart: None,
        }
    }

    /// Start compiling the built-in rules before the policy is known: in a
    /// hook, reading the policy and compiling the rules were a third of the
    /// answer time each, one after the other.
    pub fn compile_builtin_ahead() -> Ahead {
        let defaults = crate::config::Config::default();
        let rules: Vec<RuleFile> = crate::policy::builtin_rules()
            .into_iter()
            .filter(|r| r.is_compiled() && in_force(r, &defaults))
            .collect();
        let default = defaults.limits.eval_timeout_ms;
        let (on_demand, every_change): (Vec<RuleFile>, Vec<RuleFile>) = rules
            .iter()
            .cloned()
            .partition(|r| starts_from(r).is_some());
        Ahead {
            task: Self::spawn_compile(every_change, default),
            rules,
            on_demand,
        }
    }

    fn spawn_compile(rules: Vec<RuleFile>, timeout: u64) -> Task<Result<Evaluator>> {
        crate::parallel::spawn("the rule compiler", move || {
            let mut evaluator = Evaluator::new(&rules, timeout)?;
            evaluator.prepare()?;
            crate::timing::mark("rules compiled (in parallel)");
            Ok(evaluator)
        })
    }

    /// The time one evaluation may take.
    fn set_timeout(&mut self, timeout_ms: u64) {
        if let Some(apart) = self.apart.as_mut() {
            apart.set_timeout(timeout_ms);
        }
        self.timeout_ms = timeout_ms;
        self.engine
            .set_execution_timer_config(ExecutionTimerConfig {
                limit: Duration::from_millis(timeout_ms),
                check_interval: NonZeroU32::new(64).expect("non-zero"),
            });
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
        let heads = heads::heads(&mut engine).map_err(Error::Rego)?;
        let sets = heads::finding_sets(&heads, &ROOT).map_err(Error::Rego)?;
        Ok(Evaluator {
            engine,
            timeout_ms,
            sets,
            apart: None,
        })
    }

    /// The evaluation ran out of time: find which finding set did, by asking
    /// for each alone (each with the full budget again; this is the error
    /// path), and name where it is defined.
    fn timed_out(&mut self, packages: &[String]) -> Error {
        for package in packages {
            for set in heads::SETS {
                let query = set_query(package, set);
                let Err(e) = self.engine.eval_query(query, false) else {
                    continue;
                };
                if !is_timeout(&e) {
                    continue;
                }
                let at = self.defined_at(package, set);
                return Error::Rego(format!(
                    "{at}: the rule `{set}` of package {package} ran longer than limits.eval_timeout_ms ({} ms); nothing was judged. Make the rule cheaper (iterate over what it needs, not over pairs of everything) or raise the limit",
                    self.timeout_ms
                ));
            }
        }
        Error::Rego(format!(
            "the rules ran longer than limits.eval_timeout_ms ({} ms); nothing was judged",
            self.timeout_ms
        ))
    }

    /// Where `package`'s finding set `set` is defined: its files and lines,
    /// or the package's name when no line starts its definition.
    fn defined_at(&self, package: &str, set: &str) -> String {
        let at: Vec<String> = self
            .sets
            .definitions
            .iter()
            .filter(|d| d.owner == package && d.set == set)
            .map(|d| format!("{}:{}", d.file, d.line))
            .collect();
        if at.is_empty() {
            package.to_string()
        } else {
            at.join(", ")
        }
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
        let load = Load::of(input);
        let input = input_value(input, None)?;
        self.evaluate(input, &load)
    }

    /// Evaluate every rule over an input document as `--dump-input` prints
    /// it (the tests hold rules to claims about inputs this way).
    pub fn findings_of_json(&mut self, input: &Json) -> Result<Vec<RawFinding>> {
        let input = Value::from_json_str(&input.to_string())
            .map_err(|e| Error::Rego(format!("the input document: {e}")))?;
        self.evaluate(input, &Load::default())
    }

    /// Evaluate every rule over `input`, releasing the manifests' objects
    /// (`object`, `previous`) as they are converted: a check needs them no
    /// more, and the two copies of every object, serde's and regorus', were
    /// most of a large check's peak memory.
    pub fn findings_releasing(&mut self, input: &mut Input) -> Result<Vec<RawFinding>> {
        let load = Load::of(input);
        let taken: Vec<Objects> = input
            .manifests
            .iter_mut()
            .map(|m| Mutex::new((std::mem::take(&mut m.object), m.previous.take())))
            .collect();
        let input = input_value(input, Some(&taken))?;
        drop(taken);
        self.evaluate(input, &load)
    }

    /// The finding sets of `packages`, in their order, evaluated by every
    /// worker on its own clone of the engine, each taking one
    /// package at a time, the costliest first (`Load::cost`): packages
    /// differ tenfold in cost, and shares dealt in advance left one worker
    /// evaluating alone for a third of the time.
    fn shared_out(
        &self,
        packages: &[String],
        load: &Load,
    ) -> std::result::Result<Vec<Json>, EvalError> {
        let mut order: Vec<usize> = (0..packages.len()).collect();
        order.sort_by_key(|i| std::cmp::Reverse(load.cost(&packages[*i])));
        let names: Vec<&String> = order.iter().map(|i| &packages[*i]).collect();
        let fan = crate::parallel::Fan {
            what: "an evaluation",
            serial_below: 2,
            pieces: crate::parallel::Pieces::Of(1),
        };
        // The time limit is the run's, not each query's: every query gets
        // what is left of it when it starts.
        let budget = Budget::start(self.timeout_ms);
        let template = &self.engine;
        let shares = crate::parallel::map(
            &names,
            fan,
            template.clone(),
            || Ok(template.clone()),
            |engine, names| {
                budget.arm(engine);
                finding_sets(engine, names, &self.sets)
            },
        )?;
        // Back in package order.
        let mut json: Vec<Json> = vec![Json::Null; packages.len()];
        for (i, sets) in order.into_iter().zip(shares.into_iter().flatten()) {
            json[i] = sets;
        }
        Ok(json)
    }

    /// Evaluate every rule over the converted input; a small `load` (a
    /// hook, a short range) keeps it on this thread.
    fn evaluate(&mut self, input: Value, load: &Load) -> Result<Vec<RawFinding>> {
        crate::timing::mark("evaluate: input");
        // The families compiled apart judge the same input (a regorus value
        // is shared, not copied, by a clone); the report sorts findings.
        let mut apart = match self.apart.as_mut() {
            Some(apart) => apart.evaluate(input.clone(), load)?,
            None => Vec::new(),
        };
        let mut out = self.evaluate_here(input, load)?;
        out.append(&mut apart);
        Ok(out)
    }

    fn evaluate_here(&mut self, input: Value, load: &Load) -> Result<Vec<RawFinding>> {
        self.engine.set_input(input);
        // Each owner of finding sets once: a package split over two files
        // (the cloud rules and their untaggable table) must not report its
        // findings twice.
        let packages = self.sets.owners.clone();
        if packages.is_empty() {
            return Ok(Vec::new());
        }
        // Packages are independent: each worker evaluates some of them on
        // its own clone of the engine (regorus evaluates on one core).
        let shares = if load.is_small() || crate::parallel::workers() == 1 {
            // On this thread, on the engine itself: a clone of it was a
            // tenth of a hook's evaluation.
            let names: Vec<&String> = packages.iter().collect();
            finding_sets(&mut self.engine, &names, &self.sets)
        } else {
            self.shared_out(&packages, load)
        };
        let json = match shares {
            Ok(json) => json,
            Err(EvalError::Timeout) => return Err(self.timed_out(&packages)),
            Err(EvalError::Other(e)) => {
                return Err(Error::Rego(format!("a rule failed while evaluating: {e}")))
            }
        };
        let mut out = Vec::new();
        for (package, sets) in packages.iter().zip(&json) {
            for (severity, set) in [Severity::Deny, Severity::Review, Severity::Warn]
                .into_iter()
                .zip(sets.as_array().into_iter().flatten())
            {
                // A finding set of another type is a rule that would never
                // report: in Rego v1 `deny[msg] if { ... }` (conftest's
                // older form) makes an object. Stop rather than pass.
                let Json::Array(items) = set else {
                    return Err(Error::Rego(format!(
                        "{}: the rule `{severity}` of package {package} is {}, not a set of findings, so it could never report one; nothing was judged. Declare it `{severity} contains f if {{ ... }}` (in Rego v1, `{severity}[f] if {{ ... }}` makes an object)",
                        self.defined_at(package, severity.as_str()),
                        json_type(set),
                    )));
                };
                for item in items {
                    out.push(parse_finding(item, severity, package)?);
                }
            }
        }
        Ok(out)
    }
}

/// How much each family of rules has to walk: the lengths of the input's
/// lists. A package's evaluation costs in proportion to the list it starts
/// from, which orders the packages for the workers (`Evaluator::shared_out`).
#[derive(Debug, Default, Clone, Copy)]
struct Load {
    manifests: usize,
    commits: usize,
    files: usize,
    resources: usize,
}

impl Load {
    fn of(input: &Input) -> Self {
        Load {
            manifests: input.manifests.len(),
            commits: input.commits.len(),
            files: input.changes.files.len(),
            resources: input.plans.iter().map(|p| p.resources.len()).sum(),
        }
    }

    /// Whether an input is so small that evaluating it on one core is faster
    /// than cloning the engine for another: the commit-msg hook's half
    /// millisecond of rules became one and a half on two threads.
    fn is_small(&self) -> bool {
        self.manifests + self.commits + self.files < 64
    }

    /// A package's expected cost, in items walked: the lists a built-in
    /// family's rules walk (`rules/<family>/`; the input family walks only
    /// the parse errors and skip counts, counted as none), and for a team's
    /// own package all of them, since it may walk any (so it is started
    /// among the first).
    fn cost(&self, package: &str) -> usize {
        let family = package.strip_prefix("govops.rules.").unwrap_or(package);
        match family {
            "tags" | "telemetry" | "models" => self.manifests,
            "cloud" => self.resources,
            "ai" => self.commits,
            "blast" => self.commits + self.files + self.manifests,
            "policy" => self.files,
            "input" => 0,
            _ => self.manifests + self.commits + self.files + self.resources,
        }
    }
}

/// The evaluation time limit of a run, shared by the queries of its workers.
struct Budget {
    start: std::time::Instant,
    limit: Duration,
}

impl Budget {
    fn start(limit_ms: u64) -> Self {
        Budget {
            start: std::time::Instant::now(),
            limit: Duration::from_millis(limit_ms),
        }
    }

    /// Give `engine`'s next query what is left of the limit, at least 1 ms
    /// (regorus takes no zero limit), so a query that starts with nothing
    /// left times out almost at once.
    fn arm(&self, engine: &mut Engine) {
        let left = self
            .limit
            .saturating_sub(self.start.elapsed())
            .max(Duration::from_millis(1));
        engine.set_execution_timer_config(ExecutionTimerConfig {
            limit: left,
            check_interval: NonZeroU32::new(64).expect("non-zero"),
        });
    }
}

/// A manifest's `object` and `previous`, taken out of the input document to
/// be converted and freed one by one.
type Objects = Mutex<(Json, Option<Json>)>;

/// The input document as a regorus value, built on every core: the
/// manifests (most of it) in pieces that the workers take in turn, and the
/// rest of the document (the commits and their files, a third of the work on
/// a long range) as one more piece, the first taken, so that it is converted
/// while the other workers start on the manifests.
fn input_value(input: &Input, taken: Option<&[Objects]>) -> Result<Value> {
    const CHUNK: usize = 64;
    enum Job<'a> {
        Rest,
        /// A piece of the manifests, and the index of its first.
        Manifests(usize, &'a [crate::input::Manifest]),
        /// A piece of the commits (a long range has thousands).
        Commits(&'a [crate::input::Commit]),
    }
    enum Done {
        Rest(Value),
        Manifests(Vec<Value>),
        Commits(Vec<Value>),
    }
    let failed = |e: value::ValueError| Error::Rego(format!("the input document: {e}"));
    let jobs: Vec<Job> = std::iter::once(Job::Rest)
        .chain(
            input
                .manifests
                .chunks(CHUNK)
                .enumerate()
                .map(|(i, part)| Job::Manifests(i * CHUNK, part)),
        )
        .chain(input.commits.chunks(CHUNK * 4).map(Job::Commits))
        .collect();
    let fan = crate::parallel::Fan {
        what: "the input conversion",
        // A hook or a small change: a thread would cost more than it saves.
        serial_below: 3,
        pieces: crate::parallel::Pieces::Of(1),
    };
    // One converter per worker (it interns the object keys).
    let done = crate::parallel::map(
        &jobs,
        fan,
        value::Converter::default(),
        || Ok(value::Converter::default()),
        |conv, jobs| -> Result<Vec<Done>> {
            jobs.iter()
                .map(|job| match job {
                    Job::Rest => conv
                        .convert_spliced(
                            input,
                            [("manifests", Value::Null), ("commits", Value::Null)],
                        )
                        .map(Done::Rest),
                    Job::Commits(part) => part
                        .iter()
                        .map(|c| conv.convert(c))
                        .collect::<std::result::Result<Vec<Value>, _>>()
                        .map(Done::Commits),
                    Job::Manifests(start, part) => part
                        .iter()
                        .enumerate()
                        .map(|(i, m)| {
                            use serde::ser::Error as _;
                            let Some(slot) = taken.and_then(|t| t.get(start + i)) else {
                                return conv.convert(m);
                            };
                            let (object, previous) =
                                std::mem::take(&mut *slot.lock().map_err(|_| {
                                    value::ValueError::custom("a manifest's objects were lost")
                                })?);
                            // Spliced in as the manifest is converted: set
                            // afterwards, they turned its frozen object back
                            // into a tree.
                            let object = conv.json(&object);
                            let previous = previous.map_or(Value::Null, |p| conv.json(&p));
                            conv.convert_spliced(m, [("object", object), ("previous", previous)])
                        })
                        .collect::<std::result::Result<Vec<Value>, _>>()
                        .map(Done::Manifests),
                })
                .collect::<std::result::Result<Vec<Done>, _>>()
                .map_err(failed)
        },
    )?;
    let mut doc = None;
    let mut manifests = Vec::with_capacity(input.manifests.len());
    let mut commits = Vec::with_capacity(input.commits.len());
    // The pieces come back in the jobs' order.
    for d in done.into_iter().flatten() {
        match d {
            Done::Rest(v) => doc = Some(v),
            Done::Manifests(v) => manifests.extend(v),
            Done::Commits(v) => commits.extend(v),
        }
    }
    let mut doc = doc.ok_or_else(|| Error::Rego("the input document was not converted".into()))?;
    for (field, part) in [("manifests", manifests), ("commits", commits)] {
        let slot = doc
            .as_object_mut()
            .ok()
            .and_then(|o| o.get_mut(&Value::from(field)))
            .ok_or_else(|| Error::Rego(format!("the input document has no {field} field")))?;
        *slot = Value::from(part);
    }
    Ok(doc)
}

enum EvalError {
    Timeout,
    Other(String),
}

impl From<crate::parallel::Panicked> for EvalError {
    fn from(p: crate::parallel::Panicked) -> Self {
        EvalError::Other(format!("{} thread panicked", p.0))
    }
}

/// The query for finding set `set` of `owner` alone: a list of its value,
/// or of none when it is undefined (a value-form set whose body did not
/// hold), never the whole package (a test kept in it is not run).
fn set_query(owner: &str, set: &str) -> String {
    format!("[x | x := data.{owner}.{set}]")
}

/// The `deny`, `review` and `warn` sets of `packages`, one JSON array of three
/// per package. Only the finding sets `defined` are asked for, each by its
/// own path: the packages' other rules are evaluated only as far as the sets
/// need them (a test kept in the rules' package, a helper nobody reads), and
/// none is copied out.
fn finding_sets(
    engine: &mut Engine,
    packages: &[&String],
    defined: &heads::FindingSets,
) -> std::result::Result<Vec<Json>, EvalError> {
    if packages.is_empty() {
        return Ok(Vec::new());
    }
    // One finding set a line: regorus refuses a line over 1,024 columns,
    // which one line for all packages reached with seven of them.
    let set = |p: &str, s: &str| {
        if defined
            .definitions
            .iter()
            .any(|d| d.owner == p && d.set == s)
        {
            set_query(p, s)
        } else {
            "[]".to_string()
        }
    };
    let query = format!(
        "[\n{}\n]",
        packages
            .iter()
            .map(|p| {
                format!(
                    "[\n{},\n{},\n{}\n]",
                    set(p, "deny"),
                    set(p, "review"),
                    set(p, "warn")
                )
            })
            .collect::<Vec<_>>()
            .join(",\n")
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
        // Every package is named by the compiled policy and every set has a
        // default, so no result means something failed that regorus did not
        // report: stop rather than judge nothing.
        return Err(EvalError::Other(
            "the rule results are undefined".to_string(),
        ));
    };
    let text = value
        .to_json_str()
        .map_err(|e| EvalError::Other(format!("rule results are not JSON: {e}")))?;
    match serde_json::from_str(&text) {
        // Each set comes as a list of its value, or of none.
        Ok(Json::Array(packages)) => Ok(packages
            .into_iter()
            .map(|sets| match sets {
                Json::Array(sets) => Json::Array(
                    sets.into_iter()
                        .map(|set| match set {
                            Json::Array(mut one) if one.len() == 1 => one.remove(0),
                            _ => Json::Array(Vec::new()),
                        })
                        .collect(),
                ),
                other => other,
            })
            .collect()),
        Ok(_) => Err(EvalError::Other("rule results are not a list".into())),
        Err(e) => Err(EvalError::Other(format!("rule results are not JSON: {e}"))),
    }
}

/// A JSON value's type, as a rule author would name it.
fn json_type(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "a list",
        Json::Object(_) => "an object",
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
            .filter_map(|v| v.as_string().ok().map(std::string::ToString::to_string))
            .collect(),
        Value::Set(s) => s
            .iter()
            .filter_map(|v| v.as_string().ok().map(std::string::ToString::to_string))
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
    let i = if let Some(i) = cache.iter().position(|(p, _)| p == patterns) {
        i
    } else {
        let set = compile_patterns(patterns)?;
        cache.push((patterns.clone(), set));
        cache.len() - 1
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
        .filter(|r| r.is_compiled())
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
    use super::{Compiling, Evaluator, Load, StartsFrom};
    use crate::policy::RuleFile;

    /// The tag rules' findings over one unlabelled Service, when the hook's
    /// compile is joined with `has` saying which lists the input has, after
    /// an early start guessing the lists `guess` says.
    fn tag_findings_guessing(guess: Option<Has>, has: Has) -> usize {
        let ahead = Evaluator::compile_builtin_ahead();
        let mut compiling = Compiling {
            task: ahead.task,
            timeout: 60_000,
            on_demand: ahead.on_demand,
            apart: None,
        };
        if let Some(guess) = guess {
            compiling.start_on_demand(guess);
        }
        let mut evaluator = compiling.join_for(has).unwrap();
        let input = serde_json::json!({
            "config": crate::config::Config::default(),
            "manifests": [{"file": "a.yaml", "doc": 0, "kind": "Service", "name": "a",
                           "labels": {}, "change": "added", "object": {}}],
        });
        evaluator
            .findings_of_json(&input)
            .unwrap()
            .iter()
            .filter(|f| f.id.starts_with("GOV-TAG-"))
            .count()
    }

    /// Which lists an input has.
    type Has = fn(StartsFrom) -> bool;

    fn tag_findings(start_early: bool, has: Has) -> usize {
        tag_findings_guessing(start_early.then_some(has), has)
    }

    /// Started early or not, the families that start from manifests are
    /// compiled when the input has manifests, and only then; an early start
    /// that guessed other lists than the input has changes nothing but time.
    #[test]
    fn families_on_demand_compile_when_the_input_has_their_list() {
        let manifests: Has = |list| list == StartsFrom::Manifests;
        let plans: Has = |list| list == StartsFrom::Plans;
        assert_eq!(tag_findings_guessing(Some(plans), manifests), 4);
        assert_eq!(tag_findings_guessing(Some(|_| false), manifests), 4);
        assert_eq!(tag_findings_guessing(Some(|_| true), manifests), 4);
        assert_eq!(tag_findings_guessing(Some(manifests), plans), 0);
        let manifests = |list| list == StartsFrom::Manifests;
        assert_eq!(tag_findings(false, manifests), 4);
        assert_eq!(tag_findings(true, manifests), 4);
        assert_eq!(tag_findings(true, |_| false), 0);
        assert_eq!(tag_findings(false, |list| list == StartsFrom::Plans), 0);
    }

    /// The built-in rules and a team's package, compiled.
    fn evaluator_with(team: &str, timeout_ms: u64) -> Evaluator {
        let mut rules: Vec<RuleFile> = crate::policy::builtin_rules()
            .into_iter()
            .filter(|r| !r.is_test())
            .collect();
        rules.push(RuleFile {
            name: "team/team.rego".into(),
            text: team.into(),
            builtin: false,
        });
        Evaluator::new(&rules, timeout_ms).unwrap()
    }

    /// A load past `is_small`: the packages are shared out among workers.
    const LARGE: Load = Load {
        manifests: 500,
        commits: 100,
        files: 100,
        resources: 0,
    };

    /// Evaluated one package at a time by several workers, costliest first,
    /// the findings are those of one query on one thread: every package's
    /// sets end up under its own name.
    #[test]
    fn packages_shared_out_find_what_one_thread_finds() {
        let team = "package govops.rules.team\nimport rego.v1\n\nwarn contains f if {\n\tsome m in input.manifests\n\tf := {\"id\": \"TEAM-001\", \"message\": m.name}\n}\n";
        let mut evaluator = evaluator_with(team, 60_000);
        let manifest = |i: usize| {
            serde_json::json!({"file": format!("m{i}.yaml"), "doc": 0, "kind": "Service",
                "name": format!("s{i}"), "labels": {}, "change": "added", "object": {}})
        };
        let input = serde_json::json!({
            "config": crate::config::Config::default(),
            "manifests": (0..40).map(manifest).collect::<Vec<_>>(),
        });
        let value = regorus::Value::from_json_str(&input.to_string()).unwrap();
        let key = |f: &crate::finding::RawFinding| format!("{f:?}");
        let mut alone = evaluator.evaluate(value.clone(), &Load::default()).unwrap();
        let mut shared = evaluator.evaluate(value, &LARGE).unwrap();
        alone.sort_by_key(key);
        shared.sort_by_key(key);
        assert_eq!(shared.len(), 40 * 4 + 40, "{shared:#?}");
        assert_eq!(
            alone.iter().map(key).collect::<Vec<_>>(),
            shared.iter().map(key).collect::<Vec<_>>()
        );
    }

    /// Shared out, a package that never finishes still stops the evaluation
    /// within the limit (the workers take no package after a failure), and
    /// the error names its file and line.
    #[test]
    fn packages_shared_out_keep_one_time_limit() {
        let team = "package govops.rules.team\nimport rego.v1\n\ndeny contains f if {\n\tsome i in numbers.range(1, 100000)\n\tsome j in numbers.range(1, 100000)\n\ti * j < 0\n\tf := {\"id\": \"TEAM-SLOW-001\", \"message\": \"never\"}\n}\n";
        let mut evaluator = evaluator_with(team, 300);
        let input = serde_json::json!({"config": crate::config::Config::default()});
        let value = regorus::Value::from_json_str(&input.to_string()).unwrap();
        let started = std::time::Instant::now();
        let err = evaluator.evaluate(value, &LARGE).unwrap_err().to_string();
        assert!(err.contains("team/team.rego:4"), "{err}");
        assert!(err.contains("limits.eval_timeout_ms (300 ms)"), "{err}");
        // The limit, then the search for the rule that ran out (one more).
        assert!(
            started.elapsed() < std::time::Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
    }

    /// The costliest families come first: the ones walking the longest lists.
    #[test]
    fn package_costs_follow_the_lists_they_walk() {
        let load = Load {
            manifests: 5000,
            commits: 2000,
            files: 4000,
            resources: 3,
        };
        assert_eq!(load.cost("govops.rules.tags"), 5000);
        assert_eq!(load.cost("govops.rules.blast"), 11000);
        assert_eq!(load.cost("govops.rules.ai"), 2000);
        assert_eq!(load.cost("govops.rules.cloud"), 3);
        assert_eq!(load.cost("govops.rules.policy"), 4000);
        assert_eq!(load.cost("govops.rules.input"), 0);
        assert_eq!(load.cost("govops.rules.team"), 11003);
        assert!(Load::default().is_small() && !LARGE.is_small());
    }
}
