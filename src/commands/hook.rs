//! `govops hook install`: native git `commit-msg` and `pre-push` hooks, for
//! teams that do not use the pre-commit framework. Respects `core.hooksPath`;
//! never overwrites a hook it did not write without `--force`.

use super::print;
use crate::cli::Global;
use crate::error::{Error, Exit, Result};
use std::path::{Path, PathBuf};

/// The first line after the shebang marks a hook as govops'.
const MARKER: &str =
    "# Installed by `govops hook install`; remove with `govops hook install --uninstall`.";

fn govops_command() -> String {
    // Prefer the govops on PATH at commit time; fall back to this binary.
    let fallback = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "govops".into());
    format!(
        "GOVOPS=\"${{GOVOPS:-$(command -v govops || echo '{}')}}\"",
        fallback.replace('\'', "")
    )
}

/// Why the hooks fail on deny only: a review finding is approved on the pull
/// request, which does not exist yet, so blocking on it here would only teach
/// `--no-verify`. The pull request's gate still fails on it.
const WHY_DENY: &str =
    "# Review findings are shown, not blocking: they are approved on the pull request.";

fn commit_msg_hook() -> String {
    format!(
        "#!/bin/sh\n{MARKER}\n{WHY_DENY}\n{}\nexec \"$GOVOPS\" check --fail-on deny --commit-msg-file \"$1\"\n",
        govops_command()
    )
}

fn pre_push_hook() -> String {
    format!(
        r#"#!/bin/sh
{MARKER}
{WHY_DENY}
{}
zero=0000000000000000000000000000000000000000
status=0
# git writes one line per ref pushed: <local ref> <local sha> <remote ref> <remote sha>
while read -r local_ref local_sha remote_ref remote_sha; do
  [ "$local_sha" = "$zero" ] && continue            # a deleted ref: nothing to check
  if [ "$remote_sha" = "$zero" ]; then
    "$GOVOPS" check --fail-on deny --head "$local_sha" || status=$?  # a new branch: against its upstream or main
  else
    "$GOVOPS" check --fail-on deny --base "$remote_sha" --head "$local_sha" || status=$?
  fi
done
exit $status
"#,
        govops_command()
    )
}

fn hooks_dir(repo: &git2::Repository) -> PathBuf {
    let root = crate::collect::git::root(repo);
    match repo
        .config()
        .ok()
        .and_then(|c| c.get_path("core.hooksPath").ok())
    {
        Some(p) if p.is_absolute() => p,
        Some(p) => root.join(p),
        None => repo.path().join("hooks"),
    }
}

fn is_ours(path: &Path) -> bool {
    std::fs::read_to_string(path).is_ok_and(|t| t.contains(MARKER))
}

pub fn install(global: &Global, force: bool, uninstall: bool) -> Result<Exit> {
    let repo = crate::collect::git::open(global.repo.as_deref())?;
    let dir = hooks_dir(&repo);
    let hooks = [
        ("commit-msg", commit_msg_hook()),
        ("pre-push", pre_push_hook()),
    ];
    let mut out = String::new();
    if uninstall {
        for (name, _) in &hooks {
            let path = dir.join(name);
            if is_ours(&path) {
                std::fs::remove_file(&path).map_err(|e| Error::io(path.display(), e))?;
                out.push_str(&format!("removed {}\n", path.display()));
            } else if path.exists() {
                out.push_str(&format!(
                    "left {} alone: govops did not write it\n",
                    path.display()
                ));
            }
        }
        print(&out)?;
        return Ok(Exit::Pass);
    }
    for (name, _) in &hooks {
        let path = dir.join(name);
        if path.exists() && !is_ours(&path) && !force {
            return Err(Error::Usage(format!(
                "{} exists and was not written by govops; pass --force to replace it (or call `govops check --commit-msg-file \"$1\"` from it)",
                path.display()
            )));
        }
    }
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(dir.display(), e))?;
    for (name, text) in &hooks {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| Error::io(path.display(), e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                .map_err(|e| Error::io(path.display(), e))?;
        }
        out.push_str(&format!("installed {}\n", path.display()));
    }
    out.push_str("Commits are now checked for AI provenance as they are made, and pushes against their base.\n");
    print(&out)?;
    Ok(Exit::Pass)
}
