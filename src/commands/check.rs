//! `govops check`: the gate. Collect, evaluate, locate, judge, render, exit.

use super::{print, use_color};
use crate::catalog;
use crate::cli::{CheckArgs, Global};
use crate::clock;
use crate::collect::{self, context, git, provenance::IdentityTable, Request};
use crate::error::{ConfigError, ConfigProblem, Error, Exit, Result};
use crate::evaluate::Evaluator;
use crate::finding::Finding;
use crate::input::Mode;
use crate::judge::{self, Approver, Verdict};
use crate::policy::{self, Policy, PolicyRef};
use crate::render::{self, Format, Report, Style};
use crate::timing;
use std::io::Read;

pub fn run(global: &Global, args: &CheckArgs) -> Result<Exit> {
    if global.verbose > 0 {
        timing::enable();
    }
    let repo = git::open(global.repo.as_deref())?;
    let root = git::root(&repo);
    let mode = if args.commit_msg_file.is_some() {
        Mode::CommitMsg
    } else if args.staged {
        Mode::Staged
    } else {
        Mode::Range
    };
    let now = match &args.now {
        Some(text) => clock::parse_now(text).ok_or_else(|| {
            Error::Usage(format!(
                "--now {text:?} is not an RFC 3339 time (e.g. 2026-11-21T12:00:00Z)"
            ))
        })?,
        None => time::OffsetDateTime::now_utc(),
    };
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
    // The staged changes do not depend on the policy: the hook reads them
    // (the index and its diff against HEAD, most of its own work) on another
    // core while the policy loads and compiles.
    let staged = (mode != Mode::Range).then(|| {
        let path = repo.path().to_path_buf();
        std::thread::spawn(move || git::diff_staged(&git::reopen(&path)?))
    });

    let policy_ref = match args.policy_ref.as_deref() {
        Some("worktree") => PolicyRef::Worktree,
        Some("base") => match range.as_ref().and_then(|r| r.base) {
            Some(base) => PolicyRef::Base(base),
            None => {
                return Err(Error::Usage(
                    "--policy-ref base: this run has no base revision".into(),
                ))
            }
        },
        Some(rev) => {
            let oid = repo
                .revparse_single(rev)
                .and_then(|o| o.peel_to_commit())
                .map_err(|_| Error::Git(format!("--policy-ref {rev}: no such revision")))?
                .id();
            PolicyRef::Revision(oid, rev.to_string())
        }
        None => match range.as_ref().and_then(|r| r.base) {
            Some(base) => PolicyRef::Base(base),
            None => PolicyRef::Worktree,
        },
    };
    let policy = policy::load(
        &repo,
        &root,
        &policy_ref,
        global.config.as_deref(),
        &args.policy,
    )?;
    check_rule_references(&policy)?;
    timing::mark("policy");

    let message = match &args.commit_msg_file {
        Some(path) => Some(std::fs::read(path).map_err(|e| {
            Error::io(
                path.display(),
                format!("cannot read the commit message: {e}"),
            )
        })?),
        None => None,
    };
    let stdin = if args.manifests.iter().any(|m| m == "-") {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .map_err(|e| Error::io("stdin", e))?;
        Some(
            String::from_utf8(buf)
                .map_err(|_| Error::io("stdin", "the manifest stream is not UTF-8 text"))?,
        )
    } else {
        None
    };
    let globs: Vec<String> = args
        .manifests
        .iter()
        .filter(|m| *m != "-")
        .cloned()
        .collect();
    let manifest_globs = if globs.is_empty() {
        None
    } else {
        Some(crate::config::globset(&globs).map_err(|(i, e)| {
            Error::Usage(format!("--manifests {:?}: invalid glob: {e}", globs[i]))
        })?)
    };
    // Compiling and analysing the rules does not need the input: do it on
    // another core while the repository is read.
    let rules: Vec<_> = policy
        .rules
        .iter()
        .filter(|r| !r.is_test())
        .cloned()
        .collect();
    let timeout = policy.config.config.limits.eval_timeout_ms;
    let compiler = std::thread::spawn(move || -> Result<Evaluator> {
        let mut evaluator = Evaluator::new(&rules, timeout)?;
        evaluator.prepare()?;
        timing::mark("rules compiled (in parallel)");
        Ok(evaluator)
    });
    let table = IdentityTable::builtin();
    let staged = staged
        .map(|reader| {
            let files = reader
                .join()
                .map_err(|_| Error::Git("the staged-changes reader panicked".into()))?;
            timing::mark("staged changes");
            files
        })
        .transpose()?;
    let collection = collect::collect(Request {
        repo: &repo,
        root: &root,
        mode,
        range: range.as_ref(),
        message,
        staged,
        policy: &policy,
        table: &table,
        env: &env,
        all_manifests: args.all_manifests,
        manifest_globs,
        stdin,
        now: clock::format_utc(now),
    })?;
    timing::mark("collect");
    if args.dump_input {
        let pretty = serde_json::to_string_pretty(&collection.input)
            .map_err(|e| Error::Rego(format!("serialising the input: {e}")))?;
        print(&format!("{pretty}\n"))?;
        return Ok(Exit::Pass);
    }

    let mut evaluator = compiler
        .join()
        .map_err(|_| Error::Rego("the rule compiler thread panicked".into()))??;
    timing::mark("compile");
    let raw = evaluator.findings(&collection.input)?;
    timing::mark("evaluate");
    let input = &collection.input;
    // Deleted objects share a file and document index with the head's; the
    // head's object is the one a finding can point into.
    let mut by_doc = std::collections::HashMap::with_capacity(input.manifests.len());
    for m in &input.manifests {
        let slot = by_doc.entry((m.file.as_str(), m.doc)).or_insert(m);
        if slot.change == "deleted" {
            *slot = m;
        }
    }
    let findings: Vec<Finding> = raw
        .into_iter()
        .map(|r| Finding::locate(r, &by_doc, &collection.sources))
        .collect();
    let approvers = approvers(&policy, &env);
    let judgement = judge::judge(
        findings,
        &policy.config,
        input,
        &approvers,
        now,
        args.fail_on,
        &|name, email| table.identify(name, email).is_some() || name.ends_with("[bot]"),
    );
    timing::mark("judge");

    let mut notes = Vec::new();
    if let Some(r) = &range {
        if r.base.is_none() && r.source == "head-only" {
            notes.push("HEAD is not ahead of its upstream, origin/HEAD, main or master: checked HEAD alone; pass --base REV to check a range".into());
        }
    }
    // What was not judged, by class, with the paths (bounded): a skip must
    // be visible in every report, whatever its format.
    let skipped = &input.skipped;
    let paths = |reason: &str, count: usize| {
        let listed: Vec<&str> = skipped
            .files
            .iter()
            .filter(|f| f.reason == reason)
            .map(|f| f.path.as_str())
            .take(NOTE_PATHS)
            .collect();
        let more = count.saturating_sub(listed.len());
        let mut text = listed.join(", ");
        if more > 0 {
            text.push_str(&format!(" and {more} more"));
        }
        text
    };
    if skipped.helm_templates > 0 {
        notes.push(format!(
            "{} Helm template file(s) skipped: {}; render them and pipe the output, e.g. `helm template CHART | govops check --manifests -`",
            skipped.helm_templates,
            paths("helm-template", skipped.helm_templates)
        ));
    }
    if skipped.documents > 0 {
        notes.push(format!(
            "{} YAML/JSON document(s) without apiVersion and kind skipped",
            skipped.documents
        ));
    }
    if skipped.symlinks > 0 {
        notes.push(format!(
            "{} symbolic link(s) not followed: {}",
            skipped.symlinks,
            paths("symlink", skipped.symlinks)
        ));
    }
    if skipped.gitlinks > 0 {
        notes.push(format!(
            "{} submodule(s) (gitlinks) not judged: {}",
            skipped.gitlinks,
            paths("gitlink", skipped.gitlinks)
        ));
    }
    if skipped.excluded > 0 {
        notes.push(format!(
            "{} file(s) left out by manifests.exclude: {}",
            skipped.excluded,
            paths("excluded", skipped.excluded)
        ));
    }
    // The audit record is written before any report, so that reports can name
    // it, and a record that cannot be written fails the run.
    let audit_log = args.audit_log.clone().or_else(|| {
        policy
            .config
            .config
            .audit
            .log
            .as_ref()
            .map(|p| root.join(p))
    });
    let audit = match &audit_log {
        Some(path) => {
            let mut ids: Vec<String> = policy.docs.iter().map(|d| d.id.clone()).collect();
            for f in &judgement.findings {
                if !ids.contains(&f.id) {
                    ids.push(f.id.clone());
                }
            }
            let statement = crate::audit::statement(input, &judgement, &ids);
            let context = crate::audit::context(input, &judgement);
            let recorded_at = clock::format_utc(time::OffsetDateTime::now_utc());
            let signer = args
                .sign_key
                .as_deref()
                .map(crate::audit::signing::Signer::load)
                .transpose()?;
            Some(crate::audit::append(
                path,
                statement,
                &judgement.findings,
                context,
                &recorded_at,
                signer.as_ref(),
            )?)
        }
        None => None,
    };
    let blob_url = match (
        std::env::var("GITHUB_SERVER_URL"),
        std::env::var("GITHUB_REPOSITORY"),
        &input.repo.head,
    ) {
        (Ok(server), Ok(repo), Some(head)) if !server.is_empty() && !repo.is_empty() => {
            Some(format!("{server}/{repo}/blob/{head}"))
        }
        _ => None,
    };
    let report = Report {
        judgement: &judgement,
        input,
        sources: &collection.sources,
        audit,
        notes,
        catalog: policy.docs.clone(),
        blob_url,
    };
    let width = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(100);
    let style = Style {
        color: use_color(global),
        quiet: global.quiet,
        width,
    };
    for target in &args.reports {
        let text = render::render(
            target.format,
            &report,
            Style {
                color: false,
                ..style
            },
        );
        std::fs::write(&target.path, text).map_err(|e| {
            Error::io(
                target.path.display(),
                format!("cannot write the report: {e}"),
            )
        })?;
    }
    print(&render::render(args.format, &report, style))?;
    if args.format == Format::Github || args.reports.iter().any(|r| r.format == Format::Github) {
        github_files(&report)?;
    }
    timing::mark("render");
    let exit = match judgement.verdict {
        Verdict::Pass => Exit::Pass,
        Verdict::Fail => Exit::Fail,
    };
    // The process ends here: freeing the input document and the engine value
    // by value would only cost time (tens of ms on a large repository).
    std::mem::forget(report);
    std::mem::forget(judgement);
    std::mem::forget(collection);
    std::mem::forget(evaluator);
    Ok(exit)
}

/// Skipped paths named per class in a report's notes; the input document
/// lists more (`skipped.files`).
const NOTE_PATHS: usize = 10;

/// In GitHub Actions: the Markdown summary on the run's page, and the step outputs.
fn github_files(report: &Report<'_>) -> Result<()> {
    let append = |var: &str, text: String| -> Result<()> {
        let Some(path) = std::env::var_os(var).filter(|p| !p.is_empty()) else {
            return Ok(());
        };
        use std::io::Write;
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(text.as_bytes()))
            .map_err(|e| {
                Error::io(
                    std::path::Path::new(&path).display(),
                    format!("cannot write ${var}: {e}"),
                )
            })
    };
    append("GITHUB_STEP_SUMMARY", render::summary(report))?;
    append("GITHUB_OUTPUT", render::github::outputs(report))
}

/// Approvals the CI system knows: PR labels from `approvals.labels`, an
/// approving review event, and `--approved-by`.
fn approvers(policy: &Policy, env: &context::Environment) -> Vec<Approver> {
    let mut out = Vec::new();
    if let Some(pr) = &env.context.pr {
        for label in &pr.labels {
            if policy.config.config.approvals.labels.contains(label) {
                out.push(Approver {
                    name: format!("label:{label}"),
                    via: "label",
                });
            }
        }
    }
    if let Some(reviewer) = &env.review_approved_by {
        out.push(Approver {
            name: reviewer.clone(),
            via: "review",
        });
    }
    for name in &env.context.approvals {
        if env.review_approved_by.as_ref() != Some(name) {
            out.push(Approver {
                name: name.clone(),
                via: "cli",
            });
        }
    }
    out
}

/// Rule ids in `severity` and `waivers` must exist: a typo would otherwise
/// silently waive nothing, or fail to turn a rule off.
fn check_rule_references(policy: &Policy) -> Result<()> {
    let docs = &policy.docs;
    let references = policy.config.rule_references();
    if references.is_empty() {
        // Nothing to check; the hook is spared compiling the regex below.
        return Ok(());
    }
    let id_in_rules = regex::Regex::new(r#""id"\s*:\s*"([^"]+)""#).expect("valid regex");
    let user_ids: Vec<String> = policy
        .rules
        .iter()
        .filter(|r| !r.builtin)
        .flat_map(|r| {
            id_in_rules
                .captures_iter(&r.text)
                .map(|c| c[1].to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    let problems: Vec<ConfigProblem> = references
        .into_iter()
        .filter(|(id, _)| !docs.iter().any(|d| d.id == *id) && !user_ids.contains(id))
        .map(|(id, pointer)| ConfigProblem {
            line: policy.config.line_of(&pointer),
            key: Some(pointer.trim_start_matches('/').replace('/', ".")),
            message: format!(
                "unknown rule {id:?}; did you mean {}?",
                catalog::nearest(&id, docs).join(" or ")
            ),
        })
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::Config(ConfigError {
            origin: policy.config.origin.clone(),
            problems,
        }))
    }
}
