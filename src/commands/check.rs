//! `govops check`: the gate. Collect, evaluate, locate, judge, render, exit.

use super::{print, use_color};
use crate::cli::{CheckArgs, Global};
use crate::clock;
use crate::collect::{self, context, git, provenance::IdentityTable, Request};
use crate::deadline;
use crate::error::{Error, Exit, Result};
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
    // A manifest stream alone needs no repository (`helm template . |
    // govops check --manifests -`, in a build folder): an empty in-memory
    // repository stands in, and the stream is judged as staged content
    // (no commits, no changes), with the policy from that folder.
    let stream_only = !args.manifests.is_empty()
        && args.manifests.iter().all(|m| m == "-")
        && args.commit_msg_file.is_none();
    let (repo, root, outside) = match git::open(global.repo.as_deref()) {
        Ok(repo) => {
            let root = git::root(&repo);
            (repo, root, false)
        }
        Err(_) if stream_only => {
            let root = match &global.repo {
                Some(dir) => dir.clone(),
                None => std::env::current_dir().map_err(|e| Error::io(".", e))?,
            };
            (git2::Repository::from_odb(git2::Odb::new()?)?, root, true)
        }
        Err(e) => return Err(e),
    };
    let mode = if args.commit_msg_file.is_some() {
        Mode::CommitMsg
    } else if args.staged || outside {
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
    let staged = (mode != Mode::Range && !outside).then(|| {
        let path = repo.path().to_path_buf();
        let limit = crate::config::Limits::default().max_diff_bytes;
        std::thread::spawn(move || git::diff_staged(&git::reopen(&path)?, limit))
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
        None => match &range {
            Some(r) => match r.base {
                Some(base) => PolicyRef::Base(base),
                // No base: never the judged commit's own policy.
                None => PolicyRef::without_base(&repo, r.head, env.default_branch.as_deref()),
            },
            // The hooks judge the developer's own pending change.
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
    policy.check_rule_references()?;
    timing::mark("policy");
    deadline::arm(std::time::Duration::from_millis(
        policy.config.config.limits.run_timeout_ms,
    ));

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
        .transpose()?
        .or_else(|| outside.then(Vec::new));
    deadline::phase("reading the repository");
    let mut collection = collect::collect(Request {
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
        stdin_name: &args.stdin_name,
        now: clock::format_utc(now),
    })?;
    timing::mark("collect");
    if let (Some(r), None) = (&range, &global.config) {
        if edits_policy(&collection.input) {
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

    let mut evaluator = compiler
        .join()
        .map_err(|_| Error::Rego("the rule compiler thread panicked".into()))??;
    timing::mark("compile");
    deadline::phase("evaluating the rules");
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
    let findings: Vec<Finding> = Finding::locate_all(raw, &by_doc, &collection.sources);
    deadline::phase("judging the findings");
    let approvers = approvers(&policy, &env);
    let judgement = judge::judge(
        findings,
        &policy.config,
        &policy.baseline,
        input,
        &approvers,
        now,
        args.fail_on,
        &|name, email| table.identify(name, email).is_some() || name.ends_with("[bot]"),
    );
    timing::mark("judge");

    let mut notes: Vec<String> = policy_ref.note().into_iter().collect();
    notes.extend(env.notes.iter().cloned());
    notes.extend(input.attribution.notes.iter().cloned());
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
    deadline::finishing();
    // The audit record is written before any report, so that reports can name
    // it, and a record that cannot be written fails the run.
    let audit = match audit_target(&repo, &root, &policy, args)? {
        Some(target) => {
            let mut ids: Vec<String> = policy.docs.iter().map(|d| d.id.clone()).collect();
            for f in &judgement.findings {
                if !ids.contains(&f.id) {
                    ids.push(f.id.clone());
                }
            }
            let subject = crate::audit::repository_name(&repo);
            let statement = crate::audit::statement(input, &judgement, &ids, &subject);
            let context = crate::audit::context(input, &judgement);
            let recorded_at = clock::format_utc(time::OffsetDateTime::now_utc());
            let signer = args
                .sign_key
                .as_deref()
                .map(crate::audit::signing::Signer::load)
                .transpose()?;
            Some(crate::audit::append(
                &target,
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
        config: &policy.config,
        json_report: args
            .reports
            .iter()
            .find(|r| r.format == Format::Json)
            .map(|r| r.path.display().to_string()),
    };
    let width = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(100);
    let style = Style {
        color: use_color(global),
        quiet: global.quiet,
        verbose: global.verbose > 0,
        width,
    };
    // What a consumer's limits left out of a report is said on stderr too.
    let mut notices = Vec::new();
    for target in &args.reports {
        let rendered = render::render(
            target.format,
            &report,
            Style {
                color: false,
                ..style
            },
        );
        notices.extend(rendered.notices);
        std::fs::write(&target.path, rendered.text).map_err(|e| {
            Error::io(
                target.path.display(),
                format!("cannot write the report: {e}"),
            )
        })?;
    }
    let rendered = render::render(args.format, &report, style);
    notices.extend(rendered.notices);
    print(&rendered.text)?;
    if args.format == Format::Github || args.reports.iter().any(|r| r.format == Format::Github) {
        notices.extend(
            render::github::write_files(&report)
                .map_err(|e| Error::io("GitHub Actions files", e))?,
        );
    }
    notices.dedup();
    for notice in notices {
        eprintln!("govops: note: {notice}");
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

/// Where this run's audit record goes: `--audit-log` as the operator gave it,
/// else the config's `audit.log`, confined to the repository (the change may
/// control that config). `--sign-key` without either is a usage error.
fn audit_target(
    repo: &git2::Repository,
    root: &std::path::Path,
    policy: &Policy,
    args: &CheckArgs,
) -> Result<Option<crate::audit::LogTarget>> {
    use crate::audit::LogTarget;
    if let Some(path) = &args.audit_log {
        return Ok(Some(LogTarget::Operator(path.clone())));
    }
    let Some(rel) = &policy.config.config.audit.log else {
        if args.sign_key.is_some() {
            return Err(Error::Usage(
                "--sign-key signs audit records, but there is no audit log: pass --audit-log FILE or set audit.log in the config".into(),
            ));
        }
        return Ok(None);
    };
    // The git dirs and the hooks dir, wherever they are: a log there would
    // run code (hooks, `core.fsmonitor` in .git/config).
    let mut forbidden = vec![repo.path().to_path_buf(), repo.commondir().to_path_buf()];
    if let Ok(hooks) = repo.config().and_then(|c| c.get_path("core.hooksPath")) {
        forbidden.push(if hooks.is_absolute() {
            hooks
        } else {
            root.join(hooks)
        });
    }
    forbidden.push(repo.commondir().join("hooks"));
    let origin = match policy.config.line_of("/audit/log") {
        Some(line) if line > 0 => format!("{}:{line}", policy.config.origin),
        _ => policy.config.origin.clone(),
    };
    Ok(Some(LogTarget::Config {
        root: root.to_path_buf(),
        rel: rel.clone(),
        origin,
        forbidden,
    }))
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

/// Whether the range changes the config file or a file of a rule dir (as
/// the policy in force names them): then the head's policy is validated too.
fn edits_policy(input: &crate::input::Input) -> bool {
    let policy = &input.policy;
    input.changes.files.iter().any(|f| {
        std::iter::once(f.path.as_str())
            .chain(f.old_path.as_deref())
            .any(|path| {
                path == policy.config_path
                    || input.config.get("baseline").and_then(|b| b.as_str()) == Some(path)
                    || policy.dirs.iter().any(|d| {
                        path.strip_prefix(d.as_str())
                            .is_some_and(|r| r.starts_with('/'))
                    })
            })
    })
}
