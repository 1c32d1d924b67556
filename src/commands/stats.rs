//! `govops stats`: AI-assisted commits against the human baseline over a
//! history, as a table, JSON, CSV or an HTML dashboard.

use super::print;
use crate::cli::{Global, StatsArgs, StatsFormat};
use crate::collect::git;
use crate::error::{Error, Exit, Result};
use crate::evaluate::Evaluator;
use crate::input::{self, Commit, Input, Mode};
use crate::policy::{self, Policy, PolicyRef};
use crate::stats::{self, metrics, render, Options};
use std::io::IsTerminal;

pub fn run(global: &Global, args: &StatsArgs) -> Result<Exit> {
    if args.explain {
        print(render::EXPLAIN)?;
        return Ok(Exit::Pass);
    }
    if global.verbose > 0 {
        crate::timing::enable();
    }
    let repo = git::open(global.repo.as_deref())?;
    let root = git::root(&repo);
    let since = args
        .since
        .as_deref()
        .map(|s| stats::parse_date("--since", s))
        .transpose()?;
    let until = args
        .until
        .as_deref()
        .map(|s| stats::parse_date("--until", s))
        .transpose()?;
    // Today's policy: the working tree's config and rules (its identity
    // table extension and review trailers too).
    let policy = policy::load(
        &repo,
        &root,
        &PolicyRef::Worktree,
        global.config.as_deref(),
        &args.policy,
    )?;
    let table = policy.identity_table();
    let cfg = &policy.config.config;
    let opts = Options {
        base: args.base.clone(),
        head: args.head.clone(),
        since,
        until,
        rework: !args.no_rework,
        max_diff_bytes: cfg.limits.max_diff_bytes,
        agent_trace: cfg.ai.agent_trace.clone(),
        max_file_bytes: cfg.limits.max_file_bytes,
        max_total_bytes: cfg.limits.max_total_bytes,
    };
    let bar = progress_bar(global);
    let tick = |done: u64, total: u64| {
        if let Some(b) = &bar {
            b.set_length(total);
            b.set_position(done);
        }
    };
    let started = std::time::Instant::now();
    let mut facts = stats::read(&repo, &opts, &table, &cfg.approvals.review_trailers, &tick)?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    if global.verbose > 0 {
        eprintln!(
            "govops stats: read {} commits in {:?}",
            facts.rows.len(),
            started.elapsed()
        );
    }
    if let Some(sample) = args.rework_accuracy {
        let ids: Vec<git2::Oid> = facts
            .rows
            .iter()
            .filter_map(|r| git2::Oid::from_str(&r.sha).ok())
            .collect();
        let (same, total) =
            stats::rework::accuracy(&repo, &facts.rows, &ids, cfg.limits.max_diff_bytes, sample)?;
        eprintln!(
            "govops stats: rework replay vs git blame at head, {sample} file(s): {same} of {total} lines with the same origin ({:.2}%)",
            if total == 0 { 100.0 } else { same as f64 * 100.0 / total as f64 }
        );
    }
    crate::timing::mark("stats: read");
    let view = policy_view(&policy, &repo, &mut facts);
    crate::timing::mark("stats: policy view");
    let mut report = metrics::report(&facts, args.by, view);
    let repository = crate::audit::repository_name(&repo);
    report.range.repository = Some(repository.clone());
    let text = match args.format {
        StatsFormat::Table => render::table(&report, args.by),
        StatsFormat::Json => render::json(&report),
        StatsFormat::Csv => render::csv(&repository, &report.commits),
        StatsFormat::Html => stats::html::dashboard(&report, &repository),
    };
    crate::timing::mark("stats: rendered");
    match &args.output {
        Some(path) => std::fs::write(path, text).map_err(|e| Error::io(path.display(), e))?,
        None => print(&text)?,
    }
    Ok(Exit::Pass)
}

/// A progress bar on stderr when it is a terminal (and not --quiet).
fn progress_bar(global: &Global) -> Option<indicatif::ProgressBar> {
    if global.quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(0);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} commits ({eta})")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix("govops stats");
    Some(bar)
}

/// The range's AI commits judged by today's rules, once over all of them:
/// which GOV-AI rules each commit fails. Waivers and severities are not
/// applied (a view of the rules, not a verdict). An evaluation that fails
/// (a rule error, the time limit) is reported in the view, not fatal.
fn policy_view(
    policy: &Policy,
    repo: &git2::Repository,
    facts: &mut stats::Facts,
) -> metrics::PolicyView {
    let mut view = metrics::PolicyView {
        ai_commits: facts.ai_commits.len() as u64,
        source: policy.source.source.clone(),
        ..Default::default()
    };
    if facts.ai_commits.is_empty() {
        return view;
    }
    let commits: Vec<Commit> = std::mem::take(&mut facts.ai_commits);
    let input = Input {
        schema: input::SCHEMA,
        now: crate::clock::format_utc(time::OffsetDateTime::now_utc()),
        mode: Mode::Range,
        repo: input::Repo {
            root: git::root(repo).display().to_string(),
            head: Some(facts.range.head.clone()),
            base: facts.range.base.clone(),
            merge_base: facts.range.base.clone(),
            branch: git::branch(repo),
            shallow: repo.is_shallow(),
            range_source: "stats".into(),
        },
        context: Default::default(),
        config: serde_json::to_value(&policy.config.config).unwrap_or_default(),
        policy: policy.source.clone(),
        commits,
        changes: Default::default(),
        manifests: Vec::new(),
        plans: Vec::new(),
        skipped: Default::default(),
        errors: Vec::new(),
        attribution: Default::default(),
    };
    let rules: Vec<_> = policy
        .rules
        .iter()
        .filter(|r| r.is_compiled())
        .cloned()
        .collect();
    let raw =
        Evaluator::new(&rules, policy.config.config.limits.eval_timeout_ms).and_then(|mut e| {
            e.prepare()?;
            e.findings(&input)
        });
    let raw = match raw {
        Ok(raw) => raw,
        Err(e) => {
            eprintln!("govops stats: warning: the policy view is left empty: {e}");
            view.error = Some(e.to_string());
            return view;
        }
    };
    let index: std::collections::HashMap<&str, usize> = facts
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| (r.sha.as_str(), i))
        .collect();
    let mut failures: Vec<Vec<String>> = vec![Vec::new(); facts.rows.len()];
    for f in raw.iter().filter(|f| f.id.starts_with("GOV-AI-")) {
        if let Some(i) = f.commit.as_deref().and_then(|c| index.get(c)) {
            if !failures[*i].contains(&f.id) {
                failures[*i].push(f.id.clone());
            }
        }
    }
    for (row, mut ids) in facts.rows.iter_mut().zip(failures) {
        ids.sort();
        for id in &ids {
            *view.by_rule.entry(id.clone()).or_default() += 1;
        }
        if !ids.is_empty() {
            view.failing += 1;
        }
        row.policy_failures = ids;
    }
    view
}

/// `govops schema stats`: the JSON export's schema (its `commits[]` are
/// also the CSV's rows).
pub fn schema() -> serde_json::Value {
    let mut schema =
        serde_json::to_value(schemars::schema_for!(metrics::Report)).unwrap_or_default();
    if let Some(obj) = schema.as_object_mut() {
        obj.insert(
            "description".into(),
            serde_json::Value::String(format!(
                "govops stats --format json ({}). --format csv writes one row per commit with the columns: {} (tools and models `;`-separated, `human` for a commit with no AI evidence; times RFC 3339 UTC; empty cells are null).",
                stats::SCHEMA,
                render::CSV_COLUMNS.join(", ")
            )),
        );
    }
    schema
}
