//! The audit record: one JSON line per run, appended under an exclusive lock
//! and fsynced, each carrying the sha256 of the line before it, so that any
//! edit, removal, reordering or truncation of the log can be detected.
//! Each record holds an in-toto Statement (test-result predicate) about the
//! head commit, optionally signed (see `signing`).
//!
//! A write that fails (disk full, a file size limit) is undone by truncating
//! back to the previous length, so a failed run leaves no partial record; a
//! crash can still leave a torn last line, which `verify` names, `append`
//! refuses to bury and `repair` sets aside with a record saying so.
//! A log named by a config file is opened without following symbolic links
//! and never inside the git dir (`LogTarget::Config`).

/// The audit record written for this run, when there is one.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct AuditRef {
    pub log: String,
    pub seq: u64,
    pub hash: String,
}

pub mod signing;

use crate::config::ValidConfig;
use crate::error::{Error, Result};
use crate::finding::Finding;
use crate::input::Input;
use crate::judge::{Judgement, Verdict};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
pub const PREDICATE_TYPE: &str = "https://in-toto.io/attestation/test-result/v0.1";

/// The hash of a record: sha256 of its line's bytes, newline excluded.
pub fn hash_line(line: &[u8]) -> String {
    format!("sha256:{}", crate::policy::hex(&Sha256::digest(line)))
}

/// The in-toto Statement for one run: the head commit is the subject, the
/// policy files are the configuration, rule ids are the tests.
/// `subject_name` is the repository's URL (`repository_name`).
pub fn statement(
    input: &Input,
    judgement: &Judgement,
    rule_ids: &[String],
    subject_name: &str,
) -> Value {
    let mut failed: Vec<String> = Vec::new();
    let mut warned: Vec<String> = Vec::new();
    for f in &judgement.findings {
        let list = if judgement.fail_on.fails(f) {
            &mut failed
        } else {
            &mut warned
        };
        if !list.contains(&f.id) {
            list.push(f.id.clone());
        }
    }
    warned.retain(|id| !failed.contains(id));
    let passed: Vec<&String> = rule_ids
        .iter()
        .filter(|id| !failed.contains(id) && !warned.contains(id))
        .collect();
    let result = match (judgement.verdict, warned.is_empty()) {
        (Verdict::Fail, _) => "FAILED",
        (Verdict::Pass, false) => "WARNED",
        (Verdict::Pass, true) => "PASSED",
    };
    let builtin = builtin_digests();
    let configuration: Vec<Value> = input
        .policy
        .files
        .iter()
        .map(|f| {
            // A built-in rule is named so that it cannot be taken for a file
            // of the checked repository: `//` never occurs in a git path.
            let name = if builtin.iter().any(|(n, d)| *n == f.name && *d == f.sha256) {
                format!("{BUILTIN_PREFIX}{}", f.name)
            } else {
                f.name.clone()
            };
            json!({"name": name, "digest": {"sha256": f.sha256}})
        })
        .collect();
    let mut predicate = json!({
        "result": result,
        "configuration": configuration,
        "passedTests": passed,
        "warnedTests": warned,
        "failedTests": failed,
    });
    if let Some(url) = &input.context.run_url {
        predicate["url"] = json!(url);
    }
    json!({
        "_type": STATEMENT_TYPE,
        "subject": [{"name": subject_name, "digest": {"gitCommit": input.repo.head}}],
        "predicateType": PREDICATE_TYPE,
        "predicate": predicate,
    })
}

/// How built-in rules are named in a statement's `configuration`.
pub const BUILTIN_PREFIX: &str = "govops://builtin/";

/// Name and sha256 (hex) of every built-in rule file.
fn builtin_digests() -> Vec<(String, String)> {
    crate::policy::builtin_rules()
        .into_iter()
        .map(|r| {
            let digest = crate::policy::hex(&Sha256::digest(r.text.as_bytes()));
            (r.name, digest)
        })
        .collect()
}

/// The statement's subject name: the repository's URL, never a local path.
/// In GitHub Actions the server and repository; else the `origin` remote
/// (or the only remote), without any credentials it embeds.
pub fn repository_name(repo: &git2::Repository) -> String {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if let (Some(server), Some(name)) = (var("GITHUB_SERVER_URL"), var("GITHUB_REPOSITORY")) {
        return format!("{}/{name}", server.trim_end_matches('/'));
    }
    let url = |name: &str| {
        repo.find_remote(name)
            .ok()
            .and_then(|r| r.url().map(str::to_string))
    };
    let remote = url("origin").or_else(|| {
        let names = repo.remotes().ok()?;
        match names.len() {
            1 => url(names.get(0)?),
            _ => None,
        }
    });
    remote
        .and_then(|u| public_url(&u))
        .unwrap_or_else(|| NO_REMOTE.to_string())
}

/// The subject name of a repository without a (non-local) remote.
pub const NO_REMOTE: &str = "(no remote)";

/// A remote URL fit for a record: userinfo (tokens) removed; None for a
/// local path or `file://` remote, which names only this machine.
fn public_url(url: &str) -> Option<String> {
    if let Some((scheme, rest)) = url.split_once("://") {
        if scheme.eq_ignore_ascii_case("file") {
            return None;
        }
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        return Some(format!("{scheme}://{host}{path}"));
    }
    // scp-like `user@host:path`: the host part has no slash before the colon
    // (and is not a drive letter, `C:/…`).
    match url.split_once(':') {
        Some((host, _)) if host.len() > 1 && !host.contains('/') => Some(url.to_string()),
        _ => None,
    }
}

/// Who ran the gate, where, on what: what an auditor asks months later.
pub fn context(input: &Input, judgement: &Judgement) -> Value {
    json!({
        "ci": input.context.ci,
        "event": input.context.event,
        "actor": input.context.actor,
        "run_id": input.context.run_id,
        "run_url": input.context.run_url,
        "pr": input.context.pr,
        "approvals": input.context.approvals,
        "mode": input.mode,
        "range": {"base": input.repo.base, "head": input.repo.head, "merge_base": input.repo.merge_base, "source": input.repo.range_source},
        "policy": {"source": input.policy.source, "ref": input.policy.r#ref, "digest": input.policy.digest},
        "now": input.now,
        "verdict": judgement.verdict,
        "fail_on": judgement.fail_on,
        "govops": env!("CARGO_PKG_VERSION"),
    })
}

/// Where an audit record goes.
#[derive(Debug, Clone)]
pub enum LogTarget {
    /// `--audit-log`: the operator's path, used as given.
    Operator(PathBuf),
    /// `audit.log` of a config file, which the checked change may control:
    /// relative to the repository root, reached without following any
    /// symbolic link, and never in a git dir or the hooks dir.
    Config {
        root: PathBuf,
        /// The value as the config wrote it (validated by `config::confined_file`).
        rel: String,
        /// The config file, for messages.
        origin: String,
        /// Folders that must not be reached (git dir, common dir, hooks).
        forbidden: Vec<PathBuf>,
    },
}

impl LogTarget {
    /// The path to show and to report.
    pub fn path(&self) -> PathBuf {
        match self {
            LogTarget::Operator(p) => p.clone(),
            LogTarget::Config { root, rel, .. } => root.join(rel),
        }
    }

    /// Open for reading and appending, creating it (and its folders).
    fn open(&self) -> Result<File> {
        match self {
            LogTarget::Operator(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        Error::io(
                            dir.display(),
                            format!("cannot create the audit log's folder: {e}"),
                        )
                    })?;
                }
                std::fs::OpenOptions::new()
                    .read(true)
                    .append(true)
                    .create(true)
                    .open(path)
                    .map_err(|e| {
                        Error::io(path.display(), format!("cannot open the audit log: {e}"))
                    })
            }
            LogTarget::Config {
                root,
                rel,
                origin,
                forbidden,
            } => {
                let refuse = |why: String| {
                    Error::io(
                        origin,
                        format!("audit.log {rel:?}: {why}; the audit log of a config must be a file inside the repository (an operator's --audit-log may point anywhere)"),
                    )
                };
                let parts = crate::config::confined_file(rel).map_err(refuse)?;
                confined::open(root, &parts, forbidden).map_err(refuse)
            }
        }
    }
}

/// Opening a path below a root one component at a time (`openat` with
/// `O_NOFOLLOW`), so that no symbolic link, in a parent or the file itself,
/// is followed, even one swapped in while govops runs.
#[cfg(unix)]
#[allow(unsafe_code)] // openat/mkdirat/fstat: std has no "open below this fd without following links"
mod confined {
    use std::ffi::CString;
    use std::fs::File;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::MetadataExt;
    use std::path::{Path, PathBuf};

    fn identity(fd: &OwnedFd) -> Result<(u64, u64), String> {
        // SAFETY: an all-zero stat is valid and the fd is open.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        if unsafe { libc::fstat(fd.as_raw_fd(), &mut st) } != 0 {
            return Err(std::io::Error::last_os_error().to_string());
        }
        Ok((st.st_dev as u64, st.st_ino as u64))
    }

    pub fn open(root: &Path, parts: &[&str], forbidden: &[PathBuf]) -> Result<File, String> {
        let forbidden: Vec<(u64, u64)> = forbidden
            .iter()
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| (m.dev(), m.ino()))
            .collect();
        let cstr = |b: &[u8]| CString::new(b).map_err(|_| "the path holds a NUL byte".to_string());
        let root_c = cstr(root.as_os_str().as_bytes())?;
        // SAFETY: plain syscalls on NUL-terminated strings; every fd returned
        // is owned at once.
        let fd = unsafe {
            libc::open(
                root_c.as_ptr(),
                libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(format!(
                "cannot open the repository root: {}",
                std::io::Error::last_os_error()
            ));
        }
        let mut dir = unsafe { OwnedFd::from_raw_fd(fd) };
        if forbidden.contains(&identity(&dir)?) {
            // A bare repository: its root is the git dir.
            return Err("the repository root is its git dir".into());
        }
        let mut walked = PathBuf::new();
        for (i, part) in parts.iter().enumerate() {
            walked.push(part);
            let name = cstr(part.as_bytes())?;
            let last = i + 1 == parts.len();
            let flags = if last {
                libc::O_RDWR | libc::O_APPEND | libc::O_CREAT | libc::O_NOFOLLOW | libc::O_CLOEXEC
            } else {
                libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC
            };
            let mut created = false;
            let fd = loop {
                let fd = unsafe {
                    libc::openat(dir.as_raw_fd(), name.as_ptr(), flags, 0o666 as libc::c_uint)
                };
                if fd >= 0 {
                    break unsafe { OwnedFd::from_raw_fd(fd) };
                }
                let err = std::io::Error::last_os_error();
                let shown = walked.display();
                match err.raw_os_error() {
                    Some(libc::ENOENT) if !last && !created => {
                        if unsafe { libc::mkdirat(dir.as_raw_fd(), name.as_ptr(), 0o777) } != 0 {
                            let e = std::io::Error::last_os_error();
                            if e.raw_os_error() != Some(libc::EEXIST) {
                                return Err(format!("cannot create {shown}: {e}"));
                            }
                        }
                        created = true;
                    }
                    // Linux says ENOTDIR for a link opened with O_DIRECTORY,
                    // ELOOP otherwise (EMLINK on FreeBSD): look at what it is.
                    Some(libc::ELOOP | libc::EMLINK | libc::ENOTDIR) => {
                        // SAFETY: as above; an all-zero stat is valid.
                        let mut st: libc::stat = unsafe { std::mem::zeroed() };
                        let is_link = unsafe {
                            libc::fstatat(
                                dir.as_raw_fd(),
                                name.as_ptr(),
                                &mut st,
                                libc::AT_SYMLINK_NOFOLLOW,
                            )
                        } == 0
                            && st.st_mode & libc::S_IFMT == libc::S_IFLNK;
                        return Err(if is_link {
                            format!("{shown} is a symbolic link, which govops does not follow")
                        } else {
                            format!("{shown} is not a folder")
                        });
                    }
                    _ => return Err(format!("cannot open {shown}: {err}")),
                }
            };
            if forbidden.contains(&identity(&fd)?) {
                return Err(format!(
                    "{} is the git dir or the hooks dir",
                    walked.display()
                ));
            }
            if last {
                let file = File::from(fd);
                let meta = file.metadata().map_err(|e| e.to_string())?;
                if !meta.is_file() {
                    return Err(format!("{} is not a regular file", walked.display()));
                }
                // A second name for the file could be anywhere (a hard link
                // to a start-up file); a log has one name.
                if meta.nlink() > 1 {
                    return Err(format!("{} has other hard links", walked.display()));
                }
                return Ok(file);
            }
            dir = fd;
        }
        Err("it names no file".into())
    }
}

/// Elsewhere: refuse any symbolic link on the way, then open.
#[cfg(not(unix))]
mod confined {
    use std::fs::File;
    use std::path::{Path, PathBuf};

    pub fn open(root: &Path, parts: &[&str], forbidden: &[PathBuf]) -> Result<File, String> {
        let forbidden: Vec<PathBuf> = forbidden
            .iter()
            .filter_map(|p| p.canonicalize().ok())
            .collect();
        let mut path = root.to_path_buf();
        for (i, part) in parts.iter().enumerate() {
            path.push(part);
            match std::fs::symlink_metadata(&path) {
                Ok(m) if m.file_type().is_symlink() => {
                    return Err(format!(
                        "{} is a symbolic link, which govops does not follow",
                        path.display()
                    ))
                }
                Ok(_) => {}
                Err(_) if i + 1 < parts.len() => {
                    std::fs::create_dir(&path).map_err(|e| e.to_string())?
                }
                Err(_) => {}
            }
            if let Ok(c) = path.canonicalize() {
                if forbidden.iter().any(|f| c.starts_with(f)) {
                    return Err(format!(
                        "{} is in the git dir or the hooks dir",
                        path.display()
                    ));
                }
            }
        }
        std::fs::OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(|e| e.to_string())
    }
}

/// The last line of an audit log and the log's length: its bytes, or an
/// error when the log ends in a torn line (a crash during a write).
fn last_line(file: &mut File, path: &Path) -> Result<(Option<Vec<u8>>, u64)> {
    let len = file
        .seek(SeekFrom::End(0))
        .map_err(|e| Error::io(path.display(), e))?;
    if len == 0 {
        return Ok((None, 0));
    }
    // Read backwards in growing windows until the line before the last newline is whole.
    let mut window = 64 * 1024u64;
    loop {
        let start = len.saturating_sub(window);
        file.seek(SeekFrom::Start(start))
            .map_err(|e| Error::io(path.display(), e))?;
        let mut buf = Vec::with_capacity(usize::try_from(len - start).unwrap_or(0));
        file.read_to_end(&mut buf)
            .map_err(|e| Error::io(path.display(), e))?;
        if buf.last() != Some(&b'\n') {
            return Err(Error::io(
                path.display(),
                format!("the audit log ends in a torn line (a crash during a write?); `govops audit verify {0}` shows it and `govops audit repair {0}` sets it aside, with a record saying so", path.display()),
            ));
        }
        let body = &buf[..buf.len() - 1];
        match body.iter().rposition(|b| *b == b'\n') {
            Some(i) => return Ok((Some(body[i + 1..].to_vec()), len)),
            None if start == 0 => return Ok((Some(body.to_vec()), len)),
            None => window *= 4,
        }
    }
}

/// The log, opened and exclusively locked (concurrent runs queue here); the
/// lock goes with the file.
fn open_locked(target: &LogTarget) -> Result<(File, PathBuf)> {
    let path = target.path();
    let file = target.open()?;
    file.lock()
        .map_err(|e| Error::io(path.display(), format!("cannot lock the audit log: {e}")))?;
    Ok((file, path))
}

/// The next record's seq and prev, after the last line of the log.
fn next_link(last: Option<&[u8]>, path: &Path) -> Result<(u64, Value)> {
    let Some(line) = last else {
        return Ok((1, Value::Null));
    };
    let last: Value = serde_json::from_slice(line).map_err(|e| {
        Error::io(
            path.display(),
            format!("the last audit record is not JSON ({e}); run `govops audit verify`"),
        )
    })?;
    let seq = last.get("seq").and_then(Value::as_u64).ok_or_else(|| {
        Error::io(
            path.display(),
            "the last audit record has no seq; run `govops audit verify`",
        )
    })?;
    Ok((seq + 1, Value::String(hash_line(line))))
}

/// Write one whole line at the end, then fsync. On failure (disk full, a
/// file size limit, an I/O error) the file is cut back to `len`, so a
/// failed run leaves no partial record to be taken for tampering.
/// Finish a record the one way every record is written: its signature
/// beside it, one JSON line, hashed (the next record's `prev`), appended
/// after the first `len` bytes, the lock released. The record's hash.
fn seal(
    mut record: Value,
    signed: Option<signing::Signed>,
    file: &mut File,
    path: &Path,
    len: u64,
) -> Result<String> {
    if let Some(signed) = signed {
        record["envelope"] = signed.envelope;
        record["sshsig"] = Value::String(signed.sshsig);
    }
    let mut line = serde_json::to_vec(&record).map_err(|e| Error::io(path.display(), e))?;
    let hash = hash_line(&line);
    line.push(b'\n');
    write_line(file, path, len, &line)?;
    let _ = file.unlock();
    Ok(hash)
}

fn write_line(file: &mut File, path: &Path, len: u64, line: &[u8]) -> Result<()> {
    let Err(e) = file.write_all(line).and_then(|_| file.sync_all()) else {
        return Ok(());
    };
    match file.set_len(len).and_then(|_| file.sync_all()) {
        Ok(()) => Err(Error::io(
            path.display(),
            format!("cannot write the audit record: {e}; the log was cut back to its previous {len} bytes, no record was written"),
        )),
        Err(undo) => Err(Error::io(
            path.display(),
            format!("cannot write the audit record: {e}; cutting the partial record off failed too ({undo}): run `govops audit repair {}`", path.display()),
        )),
    }
}

/// Append one record for this run; returns where it went.
pub fn append(
    target: &LogTarget,
    statement: Value,
    findings: &[Finding],
    context: Value,
    recorded_at: &str,
    signer: Option<&signing::Signer>,
) -> Result<AuditRef> {
    let signed = signer
        .map(|s| s.sign(signing::PAYLOAD_TYPE, &statement))
        .transpose()?;
    let (mut file, path) = open_locked(target)?;
    let (last, len) = last_line(&mut file, &path)?;
    let (seq, prev) = next_link(last.as_deref(), &path)?;
    let record = json!({
        "seq": seq,
        "prev": prev,
        "recorded_at": recorded_at,
        "statement": statement,
        "findings": findings,
        "context": context,
    });
    let hash = seal(record, signed, &mut file, &path, len)?;
    Ok(AuditRef {
        log: path.display().to_string(),
        seq,
        hash,
    })
}

/// What `repair` did.
#[derive(Debug)]
pub enum Repaired {
    /// The log was intact: nothing was touched.
    Nothing { records: u64 },
    /// A torn tail was set aside and a repair record appended.
    TornTail {
        removed: u64,
        saved_to: PathBuf,
        seq: u64,
        hash: String,
    },
    /// The damage is not a torn tail: the log was left as it was.
    Refused(String),
}

/// Set aside a torn last line (a crash during a write): its bytes go to a
/// side file next to the log, the log is cut back to its last whole record,
/// and a record is appended that names what was removed (its length,
/// sha256 and the side file), so the repair itself stays in the chain.
/// Any other damage is refused: it is evidence, not a crash.
pub fn repair(
    target: &LogTarget,
    recorded_at: &str,
    reason: Option<&str>,
    signer: Option<&signing::Signer>,
) -> Result<Repaired> {
    let (mut file, path) = open_locked(target)?;
    let mut bytes = Vec::new();
    file.seek(SeekFrom::Start(0))
        .and_then(|_| file.read_to_end(&mut bytes))
        .map_err(|e| Error::io(path.display(), format!("cannot read the audit log: {e}")))?;
    let (records, head, keep) = match verify(&bytes) {
        Verification::Intact { records, .. } => return Ok(Repaired::Nothing { records }),
        Verification::Broken(why) => return Ok(Repaired::Refused(why)),
        Verification::Torn {
            records,
            head,
            intact_len,
            ..
        } => (records, head, intact_len),
    };
    let tail = &bytes[usize::try_from(keep).expect("an offset into bytes in memory")..];
    let side = side_file(&path, recorded_at);
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&side)
        .map_err(|e| {
            Error::io(
                side.display(),
                format!("cannot write the torn tail aside: {e}"),
            )
        })?;
    out.write_all(tail)
        .and_then(|_| out.sync_all())
        .map_err(|e| {
            Error::io(
                side.display(),
                format!("cannot write the torn tail aside: {e}"),
            )
        })?;
    file.set_len(keep)
        .and_then(|_| file.sync_all())
        .map_err(|e| Error::io(path.display(), format!("cannot cut the torn tail off: {e}")))?;
    let seq = records + 1;
    let mut account = json!({
        "removed": {
            "offset": keep,
            "bytes": tail.len(),
            "sha256": hash_line(tail),
            "what": format!("a torn last line after record {records}"),
        },
        "saved_to": side.file_name().map(|n| n.to_string_lossy().into_owned()),
        "govops": env!("CARGO_PKG_VERSION"),
    });
    if let Some(reason) = reason {
        account["reason"] = json!(reason);
    }
    let signed = signer
        .map(|s| s.sign(signing::REPAIR_PAYLOAD_TYPE, &account))
        .transpose()?;
    let record = json!({
        "seq": seq,
        "prev": head,
        "recorded_at": recorded_at,
        "repair": account,
    });
    let hash = seal(record, signed, &mut file, &path, keep)?;
    Ok(Repaired::TornTail {
        removed: tail.len() as u64,
        saved_to: side,
        seq,
        hash,
    })
}

/// `LOG.torn-TIME` beside the log (`:` left out, for every file system).
fn side_file(path: &Path, recorded_at: &str) -> PathBuf {
    let stamp: String = recorded_at.chars().filter(|c| *c != ':').collect();
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".torn-{stamp}"));
    let mut side = path.with_file_name(&name);
    let mut n = 1;
    while side.exists() {
        n += 1;
        let mut numbered = name.clone();
        numbered.push(format!("-{n}"));
        side = path.with_file_name(numbered);
    }
    side
}

/// What `verify` found.
#[derive(Debug)]
pub enum Verification {
    /// The chain holds: number of records and the hash of the last one.
    Intact { records: u64, head: Option<String> },
    /// The records before the last line chain, and the last line is torn
    /// (no newline): a crash during a write, or a cut. `intact_len`: the
    /// bytes of the whole records, where `repair` cuts.
    Torn {
        records: u64,
        head: Option<String>,
        intact_len: u64,
        why: String,
    },
    /// The first problem, in words that name the record.
    Broken(String),
}

/// Recompute the chain of an audit log.
pub fn verify(bytes: &[u8]) -> Verification {
    let mut prev: Option<String> = None;
    let mut expected = 1u64;
    let mut lines: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
    let torn = lines.last().is_some_and(|l| !l.is_empty());
    if !torn {
        lines.pop();
    }
    let count = lines.len();
    for (i, line) in lines.iter().enumerate() {
        let number = i + 1;
        let is_last = number == count;
        if torn && is_last {
            return Verification::Torn {
                records: expected - 1,
                head: prev,
                intact_len: (bytes.len() - line.len()) as u64,
                why: format!(
                    "line {number} is a torn last line ({} bytes without a newline): a crash during a write, or a truncated log; the {} records before it are intact",
                    line.len(),
                    number - 1
                ),
            };
        }
        let record: Value = match serde_json::from_slice(line) {
            Ok(v) => v,
            Err(e) => {
                return Verification::Broken(format!(
                    "line {number} is not a JSON record ({e}): it was altered"
                ))
            }
        };
        let seq = record.get("seq").and_then(Value::as_u64);
        if seq != Some(expected) {
            return Verification::Broken(match seq {
                Some(s) if s > expected => format!("line {number} holds record {s} where record {expected} was expected: records were removed"),
                Some(s) => format!("line {number} holds record {s} where record {expected} was expected: records were reordered or duplicated"),
                None => format!("line {number} has no seq: it was altered"),
            });
        }
        let claimed = record
            .get("prev")
            .and_then(Value::as_str)
            .map(str::to_string);
        if claimed != prev {
            return Verification::Broken(match expected {
                1 => format!("record 1 (line {number}) names a previous record: records before it were removed"),
                _ => format!(
                    "record {expected} (line {number}) does not chain to record {}: record {} was altered, or records were removed or reordered",
                    expected - 1,
                    expected - 1
                ),
            });
        }
        prev = Some(hash_line(line));
        expected += 1;
    }
    Verification::Intact {
        records: expected - 1,
        head: prev,
    }
}

/// Where this run's audit record goes: `--audit-log` as the operator gave it,
/// else the config's `audit.log`, confined to the repository (the change may
/// control that config). `--sign-key` without either is a usage error.
pub fn target(
    repo: &git2::Repository,
    root: &Path,
    config: &ValidConfig,
    audit_log: Option<&Path>,
    signing: bool,
) -> Result<Option<LogTarget>> {
    if let Some(path) = audit_log {
        return Ok(Some(LogTarget::Operator(path.to_path_buf())));
    }
    let Some(rel) = &config.config.audit.log else {
        if signing {
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
    let origin = match config.line_of("/audit/log") {
        Some(line) if line > 0 => format!("{}:{line}", config.origin),
        _ => config.origin.clone(),
    };
    Ok(Some(LogTarget::Config {
        root: root.to_path_buf(),
        rel: rel.clone(),
        origin,
        forbidden,
    }))
}

/// Record a run: its statement (the judged range, policy and verdict, with
/// every rule id the run knew) appended to the log, signed when a key is
/// given. Written before any report, so reports can name it.
pub fn record(
    repo: &git2::Repository,
    target: &LogTarget,
    rule_ids: &[&str],
    input: &Input,
    judgement: &Judgement,
    sign_key: Option<&Path>,
) -> Result<AuditRef> {
    let ids: Vec<String> = rule_ids
        .iter()
        .map(std::string::ToString::to_string)
        .collect();
    let subject = repository_name(repo);
    let statement = statement(input, judgement, &ids, &subject);
    let context = context(input, judgement);
    let recorded_at = crate::clock::format_utc(time::OffsetDateTime::now_utc());
    let signer = sign_key.map(signing::Signer::load).transpose()?;
    append(
        target,
        statement,
        &judgement.findings,
        context,
        &recorded_at,
        signer.as_ref(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(n: u64) -> Vec<u8> {
        let mut out = Vec::new();
        let mut prev = Value::Null;
        for seq in 1..=n {
            let line =
                serde_json::to_vec(&json!({"seq": seq, "prev": prev, "findings": []})).unwrap();
            prev = Value::String(hash_line(&line));
            out.extend_from_slice(&line);
            out.push(b'\n');
        }
        out
    }

    #[test]
    fn an_intact_chain_verifies() {
        match verify(&log(3)) {
            Verification::Intact { records, head } => {
                assert_eq!(records, 3);
                assert!(head.unwrap().starts_with("sha256:"));
            }
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn every_tampering_is_named() {
        let good = String::from_utf8(log(4)).unwrap();
        let lines: Vec<&str> = good.lines().collect();
        let broken = |text: String| match verify(text.as_bytes()) {
            Verification::Broken(why) | Verification::Torn { why, .. } => why,
            v @ Verification::Intact { .. } => panic!("not detected: {v:?}"),
        };
        let altered = good
            .replacen("\"findings\":[]", "\"findings\":[1]", 2)
            .replacen("\"findings\":[1]", "\"findings\":[]", 1);
        assert!(broken(altered).contains("record 2 was altered"));
        let removed = format!("{}\n{}\n{}\n", lines[0], lines[2], lines[3]);
        assert!(broken(removed).contains("removed"));
        let reordered = format!("{}\n{}\n{}\n{}\n", lines[0], lines[2], lines[1], lines[3]);
        assert!(broken(reordered).contains("removed"));
        let head_cut = format!("{}\n{}\n", lines[1], lines[2]);
        assert!(broken(head_cut).contains("record 1"));
        let torn = format!("{}\n{}\n{}", lines[0], lines[1], &lines[2][..10]);
        assert!(broken(torn.clone()).contains("torn last line"));
        // Where repair cuts: after the last whole record.
        match verify(torn.as_bytes()) {
            Verification::Torn {
                records,
                intact_len,
                head,
                ..
            } => {
                assert_eq!(records, 2);
                assert_eq!(intact_len, (lines[0].len() + lines[1].len() + 2) as u64);
                assert_eq!(head.unwrap(), hash_line(lines[1].as_bytes()));
            }
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn remote_urls_lose_credentials_and_local_paths() {
        let url = |u: &str| public_url(u);
        assert_eq!(
            url("https://x-access-token:ghs_abc@github.com/org/svc.git").as_deref(),
            Some("https://github.com/org/svc.git")
        );
        assert_eq!(
            url("ssh://git@host:22/org/svc").as_deref(),
            Some("ssh://host:22/org/svc")
        );
        assert_eq!(
            url("git@github.com:org/svc.git").as_deref(),
            Some("git@github.com:org/svc.git")
        );
        for local in [
            "/srv/git/svc.git",
            "../svc",
            "file:///srv/svc",
            "./a:b",
            "C:/x",
        ] {
            assert_eq!(url(local), None, "{local}");
        }
    }
}
