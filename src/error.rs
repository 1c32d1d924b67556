//! Exit codes and the errors that stop govops from doing its job.
//!
//! A gate has exactly three answers, and scripts depend on them:
//! 0, the policy passed; 1, the policy failed (or tampering, or a failing
//! rule test); 2, govops could not judge. Anything unexpected is 2, never 0.

use std::fmt;

/// The process exit code, decided in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The policy passed.
    Pass = 0,
    /// The policy failed: open findings at or above `--fail-on`.
    Fail = 1,
    /// govops could not do its job: bad usage, bad config or Rego, git error.
    Error = 2,
}

/// Why govops could not do its job. Each variant's message names the file,
/// commit or rule concerned and, where there is one, the fix.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("git: {0}")]
    Git(String),
    #[error("{0}")]
    Usage(String),
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    #[error("{0}")]
    Rego(String),
}

impl Error {
    pub fn io(path: impl fmt::Display, err: impl fmt::Display) -> Self {
        Error::Io {
            path: path.to_string(),
            message: err.to_string(),
        }
    }
}

impl From<git2::Error> for Error {
    fn from(e: git2::Error) -> Self {
        Error::Git(e.message().to_string())
    }
}

/// Every problem found in one config file.
#[derive(Debug)]
pub struct ConfigError {
    pub origin: String,
    pub problems: Vec<ConfigProblem>,
}

#[derive(Debug)]
pub struct ConfigProblem {
    pub line: Option<u32>,
    /// Dotted path of the key, e.g. `waivers.0.expires`.
    pub key: Option<String>,
    pub message: String,
}

impl std::error::Error for ConfigError {}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        write!(
            f,
            "invalid config {} ({n} problem{})",
            self.origin,
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.problems {
            write!(f, "\n  {}", self.origin)?;
            if let Some(line) = p.line {
                write!(f, ":{line}")?;
            }
            if let Some(key) = &p.key {
                write!(f, ": {key}")?;
            }
            write!(f, ": {}", p.message)?;
        }
        Ok(())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
