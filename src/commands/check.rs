//! `govops check`: the gate. Collect, evaluate, locate, judge, audit,
//! render, exit. Each stage lives in its own module; this file only reads
//! the command line and hands each stage's output to the next.

use super::{print, use_color};
use crate::cli::{CheckArgs, Global};
use crate::collect::{self, context, git, Request};
use crate::config::ValidConfig;
use crate::error::{Error, Exit, Result};
use crate::evaluate::{Evaluator, StartsFrom};
use crate::finding::Finding;
use crate::input::{Mode, RangeSource};
use crate::judge::{self, Verdict};
use crate::policy::{self, PolicyRef};
use crate::render::{self, Format, Report, Style};
use crate::{audit, catalog, clock, deadline, timing};
use std::io::Read;
use std::path::{Path, PathBuf};

pub fn run(global: &Global, args: &CheckArgs) -> Result<Exit> {
    if global.verbose > 0 {
        timing::enable();
    }
    // A hook answers while a commit waits: its rules compile while the
    // repository and the policy are read (used only if the policy's rules
    // turn out to be the built-in ones).
    let ahead =
        (args.commit_msg_file.is_some() || args.staged).then(Evaluator::compile_builtin_ahead);
    let (repo, root, outside) = open(global, args)?;
    let mode = if args.commit_msg_file.is_some() {
        Mode::CommitMsg
    } else if args.staged || outside {
        Mode::Staged
    } else {
        Mode::Range
    };
    let now = now(args)?;
    let env = context::detect(&args.approved_by)?;
    let range = match mode {
        Mode::Range => Some(git::resolve_range(
            &repo,
            args.base.as_deref(),
            args.head.as_deref(),
            env.range.as_ref(),
        )?),
        _ => None,
    };
    timing::mark("range");
    let staged = (mode != Mode::Range && !outside).then(|| read_staged_ahead(&repo));

    let policy_ref = PolicyRef::choose(
        &repo,
        args.policy_ref.as_deref(),
        range.as_ref(),
        env.default_branch.as_deref(),
    )?;
    let policy = policy::load(
        &repo,
        &root,
        &policy_ref,
        global.config.as_deref(),
        &args.policy,
    )?;
    policy.check_rule_references()?;
    timing::mark("policy");
    deadline::arm(std::time::Duration::from_millis(
        policy.config.config.limits.run_timeout_ms,
    ));
    let message = read_message(args)?;
    let stdin = read_stdin(args)?;
    let manifest_globs = manifest_globs(args)?;
    let mut compiler = Evaluator::compile_in_background(&policy, ahead);
    let table = policy.identity_table();
    let staged = staged
        .map(|reader| {
            let files = reader.join()?;
            timing::mark("staged changes");
            files
        })
        .transpose()?
        .or_else(|| {
            outside.then(|| git::Staged {
                files: Vec::new(),
                tree: None,
            })
        });
    // A hook compiles the families that judge manifests and plans only for
    // a change that has some; when it may, they compile while it is read.
    let staged_match = |globs: &globset::GlobSet| {
        staged
            .as_ref()
            .is_none_or(|staged| staged.files.iter().any(|f| globs.is_match(&f.path)))
    };
    let may_have_manifests = stdin.is_some()
        || args.all_manifests
        || staged_match(manifest_globs.as_ref().unwrap_or(&policy.config.include));
    let may_have_plans =
        !args.plans.is_empty() || args.all_manifests || staged_match(&policy.config.plans);
    compiler.start_on_demand(|list| match list {
        StartsFrom::Manifests => may_have_manifests,
        StartsFrom::Plans => may_have_plans,
    });

    deadline::phase("reading the repository");
    let mut collection = collect::collect(Request {
        repo: &repo,
        root: &root,
        mode,
        range: range.as_ref(),
        message,
        staged,
        config: &policy.config,
        policy_source: policy.source.clone(),
        table: &table,
        env: &env,
        all_manifests: args.all_manifests,
        manifest_globs,
        stdin,
        stdin_name: &args.stdin_name,
        plan_files: &args.plans,
        now: clock::format_utc(now),
    })?;
    timing::mark("collect");
    if let (Some(r), None) = (&range, &global.config) {
        if policy::edited_by(&collection.input) {
            collection.input.policy.head_problems =
                crate::evaluate::head_policy_problems(&repo, &root, r.head);
            timing::mark("head policy validated");
        }
    }
    if args.dump_input {
        let pretty = serde_json::to_string_pretty(&collection.input)
            .map_err(|e| Error::Rego(format!("serialising the input: {e}")))?;
        print(&format!("{pretty}\n"))?;
        return Ok(Exit::Pass);
    }

    let mut evaluator = compiler.join(&collection.input)?;
    timing::mark("compile");
    deadline::phase("evaluating the rules");
    let raw = evaluator.findings_releasing(&mut collection.input)?;
    timing::mark("evaluate");
    let input = &collection.input;
    let findings = Finding::locate_all(raw, &input.manifests, &collection.sources);

    deadline::phase("judging the findings");
    let judgement = judge::judge(
        findings,
        &policy.config,
        &policy.baseline,
        input,
        &env.approvers(&policy.config.config.approvals.labels),
        now,
        args.fail_on,
        &|name, email| table.identify(name, email).is_some() || name.ends_with("[bot]"),
    );
    timing::mark("judge");

    let operator = global.config.is_some() || !args.policy.is_empty();
    let notes = notes(&policy_ref, operator, &env, range.as_ref(), input);

    deadline::finishing();
    // The audit record is written before any report, so that reports can name
    // it, and a record that cannot be written fails the run.
    let rule_ids = catalog::rule_ids(&policy.docs, &judgement.findings);
    let audit = audit_target(&repo, &root, &policy.config, args)?
        .map(|target| {
            audit::record(
                &repo,
                &target,
                &rule_ids,
                input,
                &judgement,
                args.sign_key.as_deref(),
            )
        })
        .transpose()?;
    let report = Report {
        judgement: &judgement,
        input,
        sources: &collection.sources,
        audit,
        notes,
        catalog: policy.docs.clone(),
        blob_url: context::blob_url(input.repo.head.as_deref()),
        config: &policy.config,
        json_report: args
            .reports
            .iter()
            .find(|r| r.format == Format::Json)
            .map(|r| r.path.display().to_string()),
    };
    emit(&report, global, args)?;
    timing::mark("render");
    let exit = match judgement.verdict {
        Verdict::Pass => Exit::Pass,
        Verdict::Fail => Exit::Fail,
    };
    // The process ends here: freeing the input document, the engine's
    // values and the repository's object caches one by one would only cost
    // time (tens of ms on a large repository).
    drop(report);
    std::mem::forget((judgement, collection, evaluator, table, policy, repo));
    Ok(exit)
}

/// The staged changes do not depend on the policy: the hook reads them (the
/// index and its diff against HEAD, most of its own work) on another core
/// while the policy loads and compiles.
fn read_staged_ahead(repo: &git2::Repository) -> crate::parallel::Task<Result<git::Staged>> {
    let path = repo.path().to_path_buf();
    let limit = crate::config::Limits::default().max_diff_bytes;
    crate::parallel::spawn("the staged-changes reader", move || {
        git::diff_staged(&git::reopen(&path)?, limit)
    })
}

/// What every report says beside the findings: where the policy came from,
/// what the CI context did not count, a head-only run, what was skipped.
fn notes(
    policy_ref: &PolicyRef,
    operator: bool,
    env: &context::Environment,
    range: Option<&git::Range>,
    input: &crate::input::Input,
) -> Vec<String> {
    let mut notes: Vec<String> = policy_ref.note(operator).into_iter().collect();
    notes.extend(env.notes.iter().cloned());
    notes.extend(input.attribution.notes.iter().cloned());
    if range.is_some_and(|r| r.base.is_none() && r.source == RangeSource::HeadOnly) {
        notes.push("HEAD is not ahead of its upstream, origin/HEAD, main or master: checked HEAD alone; pass --base REV to check a range".into());
    }
    notes.extend(render::skipped_notes(&input.skipped));
    notes
}

/// The report on stdout, the `--report` files, the GitHub Actions files;
/// what a consumer's limits left out of a report is said on stderr too.
fn emit(report: &Report<'_>, global: &Global, args: &CheckArgs) -> Result<()> {
    let style = Style {
        color: use_color(global),
        quiet: global.quiet,
        verbose: global.verbose > 0,
        width: std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(100),
    };
    let targets: Vec<(Format, &Path)> = args
        .reports
        .iter()
        .map(|r| (r.format, r.path.as_path()))
        .collect();
    let mut notices = render::write_reports(report, &targets, style)?;
    let rendered = render::render(args.format, report, style);
    notices.extend(rendered.notices);
    print(&rendered.text)?;
    if args.format == Format::Github || targets.iter().any(|(f, _)| *f == Format::Github) {
        notices.extend(
            render::github::write_files(report)
                .map_err(|e| Error::io("GitHub Actions files", e))?,
        );
    }
    notices.dedup();
    for notice in notices {
        eprintln!("govops: note: {notice}");
    }
    Ok(())
}

/// The repository, its root, and whether there is none: a manifest stream
/// alone needs no repository (`helm template . | govops check --manifests
/// -`, in a build folder): an empty in-memory repository stands in, and the
/// stream is judged as staged content (no commits, no changes), with the
/// policy from that folder.
fn open(global: &Global, args: &CheckArgs) -> Result<(git2::Repository, PathBuf, bool)> {
    let stream_only = !args.manifests.is_empty()
        && args.manifests.iter().all(|m| m == "-")
        && args.commit_msg_file.is_none();
    match git::open(global.repo.as_deref()) {
        Ok(repo) => {
            let root = git::root(&repo);
            Ok((repo, root, false))
        }
        Err(_) if stream_only => {
            let root = match &global.repo {
                Some(dir) => dir.clone(),
                None => std::env::current_dir().map_err(|e| Error::io(".", e))?,
            };
            Ok((git2::Repository::from_odb(git2::Odb::new()?)?, root, true))
        }
        Err(e) => Err(e),
    }
}

/// `--now`, else the wall clock: rules read the time only from the input.
fn now(args: &CheckArgs) -> Result<time::OffsetDateTime> {
    match &args.now {
        Some(text) => clock::parse_now(text).ok_or_else(|| {
            Error::Usage(format!(
                "--now {text:?} is not an RFC 3339 time (e.g. 2026-11-21T12:00:00Z)"
            ))
        }),
        None => Ok(time::OffsetDateTime::now_utc()),
    }
}

/// The pending commit message (`--commit-msg-file`), as bytes.
fn read_message(args: &CheckArgs) -> Result<Option<Vec<u8>>> {
    args.commit_msg_file
        .as_ref()
        .map(|path| {
            std::fs::read(path).map_err(|e| {
                Error::io(
                    path.display(),
                    format!("cannot read the commit message: {e}"),
                )
            })
        })
        .transpose()
}

/// A manifest stream on standard input (`--manifests -`).
fn read_stdin(args: &CheckArgs) -> Result<Option<String>> {
    if !args.manifests.iter().any(|m| m == "-") {
        return Ok(None);
    }
    let mut buf = Vec::new();
    std::io::stdin()
        .read_to_end(&mut buf)
        .map_err(|e| Error::io("stdin", e))?;
    String::from_utf8(buf)
        .map(Some)
        .map_err(|_| Error::io("stdin", "the manifest stream is not UTF-8 text"))
}

/// `--manifests GLOB`s, replacing the configured includes.
fn manifest_globs(args: &CheckArgs) -> Result<Option<globset::GlobSet>> {
    let globs: Vec<String> = args
        .manifests
        .iter()
        .filter(|m| *m != "-")
        .cloned()
        .collect();
    if globs.is_empty() {
        return Ok(None);
    }
    crate::config::globset(&globs)
        .map(Some)
        .map_err(|(i, e)| Error::Usage(format!("--manifests {:?}: invalid glob: {e}", globs[i])))
}

/// Where this run's audit record goes (`audit::target`), from
/// `--audit-log`, `--sign-key` and the config.
fn audit_target(
    repo: &git2::Repository,
    root: &Path,
    config: &ValidConfig,
    args: &CheckArgs,
) -> Result<Option<audit::LogTarget>> {
    audit::target(
        repo,
        root,
        config,
        args.audit_log.as_deref(),
        args.sign_key.is_some(),
    )
}
