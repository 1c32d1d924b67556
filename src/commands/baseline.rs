//! `govops baseline [--prune]`: record the findings a repository has today
//! (every manifest at HEAD), so that adopting govops does not mean fixing
//! everything first; `--prune` drops the entries that were fixed.

use super::print;
use crate::baseline::{self, Baseline};
use crate::cli::{BaselineArgs, Global};
use crate::clock;
use crate::collect::{self, context, git, Request};
use crate::error::{Error, Exit, Result};
use crate::evaluate::Evaluator;
use crate::finding::{Finding, Status};
use crate::input::{Mode, RangeSource};
use crate::judge::{self, FailOn};
use crate::policy::{self, PolicyRef};
use std::path::{Path, PathBuf};

pub fn run(global: &Global, args: &BaselineArgs) -> Result<Exit> {
    let repo = git::open(global.repo.as_deref())?;
    let root = git::root(&repo);
    let head = repo
        .head()
        .and_then(|h| h.peel_to_commit())
        .map_err(|_| {
            Error::Git(
                "HEAD has no commit: the baseline records the state of a commit; commit first"
                    .into(),
            )
        })?
        .id();
    // The working tree's policy: the one this file is written for, and the
    // one that becomes the base once the file is merged with it.
    let policy = policy::load(
        &repo,
        &root,
        &PolicyRef::Worktree,
        global.config.as_deref(),
        &args.policy,
    )?;
    policy.check_rule_references()?;
    // The tree at HEAD and nothing else: an empty range (HEAD..HEAD) has no
    // commits and no changes, so only findings about the state of the tree
    // arise, never findings about a change.
    let range = git::Range {
        base: Some(head),
        head,
        merge_base: Some(head),
        source: RangeSource::Baseline,
    };
    let now = time::OffsetDateTime::now_utc();
    let table = policy.identity_table();
    let env = context::Environment::default();
    let collection = collect::collect(Request {
        repo: &repo,
        root: &root,
        mode: Mode::Range,
        range: Some(&range),
        message: None,
        staged: None,
        config: &policy.config,
        policy_source: policy.source.clone(),
        table: &table,
        env: &env,
        all_manifests: true,
        manifest_globs: None,
        stdin: None,
        stdin_name: "-",
        plan_files: &[],
        now: clock::format_utc(now),
    })?;
    let rules: Vec<_> = policy
        .rules
        .iter()
        .filter(|r| r.is_compiled())
        .cloned()
        .collect();
    let mut evaluator = Evaluator::new(&rules, policy.config.config.limits.eval_timeout_ms)?;
    let raw = evaluator.findings(&collection.input)?;
    let input = &collection.input;
    let mut by_doc = std::collections::HashMap::with_capacity(input.manifests.len());
    for m in &input.manifests {
        by_doc.entry((m.file.as_str(), m.doc)).or_insert(m);
    }
    let findings: Vec<Finding> = raw
        .into_iter()
        .map(|r| Finding::locate(r, &by_doc, &collection.sources))
        .collect();
    // Judged without a baseline: every open finding of today, waivers and
    // severity overrides applied as a check would apply them.
    let judgement = judge::judge(
        findings,
        &policy.config,
        &Baseline::empty(&policy.baseline.path),
        input,
        &[],
        now,
        FailOn::Never,
        &|name, email| table.identify(name, email).is_some() || name.ends_with("[bot]"),
    );
    let path = policy.config.config.baseline.clone();
    let old = &policy.baseline;
    let new = if args.prune {
        old.prune(&judgement.findings)
    } else {
        Baseline::from_findings(&path, &judgement.findings)
    };
    let text = new.to_json();
    let target = confined(&root, &path)?;
    let unchanged = std::fs::read(&target).is_ok_and(|b| b == text.as_bytes());
    if !unchanged {
        write(&target, &text)?;
    }
    let (added, removed) = (new.minus(old), old.minus(&new));
    let mut out = if args.prune {
        format!(
            "govops: baseline {path}: {removed} fixed finding(s) pruned, {} left",
            new.len()
        )
    } else {
        format!(
            "govops: baseline {path}: {} finding(s) ({added} added, {removed} dropped)",
            new.len()
        )
    };
    out.push_str(if unchanged {
        "; the file is unchanged\n"
    } else {
        "; commit the file: checks read it from the base revision\n"
    });
    let left_out: Vec<&Finding> = judgement
        .findings
        .iter()
        .filter(|f| f.status == Status::Open && baseline::key(f).is_none())
        .collect();
    if !left_out.is_empty() {
        out.push_str(&format!(
            "govops: {} open finding(s) cannot be baselined (a file that cannot be parsed hides everything in it; policy and waiver findings are about the policy): fix them, or waive them with an owner and an expiry\n",
            left_out.len()
        ));
        for f in left_out.iter().take(10) {
            out.push_str(&format!(
                "  {} {:?}: {:?}\n",
                f.id,
                f.file.as_deref().unwrap_or("-"),
                f.message
            ));
        }
    }
    print(&out)?;
    Ok(Exit::Pass)
}

/// The baseline file's place on disk: the config's path (already checked
/// to stay inside the repository, out of `.git`) with no symbolic link on
/// the way, so that writing it cannot reach outside the repository.
fn confined(root: &Path, rel: &str) -> Result<PathBuf> {
    let mut at = root.to_path_buf();
    for part in rel.split('/') {
        at.push(part);
        if let Ok(meta) = std::fs::symlink_metadata(&at) {
            if meta.file_type().is_symlink() {
                return Err(Error::io(
                    at.display(),
                    "is a symbolic link; govops writes the baseline file only through real folders",
                ));
            }
        }
    }
    Ok(at)
}

/// Write the file whole or not at all: a temporary file beside it, renamed.
fn write(target: &Path, text: &str) -> Result<()> {
    let parent = target.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| Error::io(parent.display(), e))?;
    let tmp = parent.join(format!(
        ".{}.tmp-{}",
        target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        std::process::id()
    ));
    std::fs::write(&tmp, text).map_err(|e| Error::io(tmp.display(), e))?;
    std::fs::rename(&tmp, target).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(target.display(), e)
    })
}
