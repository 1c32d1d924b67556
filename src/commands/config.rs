//! `govops config validate [FILE]`: a config file and the rule dirs it
//! names, checked as the gate will load them, before they are committed. In
//! a pull request the gate reads the base revision's config, so a typo on a
//! branch would otherwise surface only after the merge, for everybody.

use super::print;
use crate::cli::Global;
use crate::collect::git;
use crate::error::{Error, Exit, Result};
use crate::policy::{self, PolicyRef};
use std::path::{Path, PathBuf};

pub fn validate(global: &Global, file: Option<&Path>) -> Result<Exit> {
    let repo = git::open(global.repo.as_deref()).ok();
    let root = match &repo {
        Some(r) => git::root(r),
        None => match &global.repo {
            Some(dir) => dir.clone(),
            None => std::env::current_dir().map_err(|e| Error::io(".", e))?,
        },
    };
    let file: PathBuf = match file.or(global.config.as_deref()) {
        Some(f) => f.to_path_buf(),
        None => root.join(crate::config::FILE_NAME),
    };
    if !file.exists() {
        return Err(Error::io(
            file.display(),
            "no config file here (the built-in defaults apply; `govops init` writes one)",
        ));
    }
    let Some(repo) = repo else {
        // Outside a repository there are no rule dirs to read: the file alone.
        let bytes = std::fs::read(&file).map_err(|e| Error::io(file.display(), e))?;
        return Ok(
            match crate::config::ValidConfig::parse(bytes, file.display().to_string()) {
                Ok(_) => {
                    print(&format!("{}: valid\n", file.display()))?;
                    Exit::Pass
                }
                Err(e) => invalid(&Error::Config(e)),
            },
        );
    };
    // The config and its rule dirs from disk, as the operator's `--config`
    // is read; then every rule compiled, and every rule id it names known.
    let policy = match policy::load(&repo, &root, &PolicyRef::Worktree, Some(&file), &[]) {
        Ok(p) => p,
        Err(e @ Error::Git(_)) => return Err(e),
        Err(e) => return Ok(invalid(&e)),
    };
    let problems = crate::evaluate::policy_problems(&policy);
    if !problems.is_empty() {
        for e in &problems {
            eprintln!("govops: {e}");
        }
        return Ok(Exit::Fail);
    }
    let user = policy.rules.iter().filter(|r| !r.builtin).count();
    print(&format!(
        "{}: valid ({} rule dir{}, {user} rule file{})\n",
        file.display(),
        policy.source.dirs.len(),
        if policy.source.dirs.len() == 1 {
            ""
        } else {
            "s"
        },
        if user == 1 { "" } else { "s" },
    ))?;
    Ok(Exit::Pass)
}

/// The problems on stderr; exit 1, the answer to "is it valid?" being no.
fn invalid(e: &Error) -> Exit {
    eprintln!("govops: {e}");
    Exit::Fail
}
