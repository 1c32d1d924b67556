//! Where govops runs: GitHub Actions (its event payload), the pre-commit
//! framework, another CI, or a developer's shell. The context supplies the
//! range to check when no flag does, and the approvals the CI system knows.

use crate::error::{Error, Result};
use crate::input::{ApprovalSource, Context, PullRequest, RangeSource};
use serde_json::Value;

/// What the environment says about the range to check.
#[derive(Debug, Clone)]
pub struct RangeHint {
    pub base: Option<String>,
    pub head: Option<String>,
    /// A push that created a branch: the commits not on the default branch
    /// (`default_branch`, else origin/HEAD, main, master), else `head` alone.
    pub head_only: bool,
    pub source: RangeSource,
    /// The repository's default branch, when the CI names it.
    pub default_branch: Option<String>,
}

/// The CI context and the range it implies.
#[derive(Debug, Default)]
pub struct Environment {
    pub context: Context,
    pub range: Option<RangeHint>,
    /// Whether a `pull_request_review` event carries an approval.
    pub review_approved_by: Option<String>,
    /// The PR's head branch, when known.
    pub branch: Option<String>,
    /// The repository's default branch, when the CI names it (policy for a
    /// range without a base is read from the merge-base with it).
    pub default_branch: Option<String>,
    /// What the report should say about the environment (an approval that
    /// was not counted, and why).
    pub notes: Vec<String>,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Read the environment of this process.
pub fn detect(approved_by: &[String]) -> Result<Environment> {
    let mut env = Environment::default();
    env.context.approvals = approved_by.to_vec();
    if var("GITHUB_ACTIONS").as_deref() == Some("true") {
        github(&mut env)?;
    } else if var("PRE_COMMIT").is_some() {
        env.context.ci = "pre-commit".into();
    } else if var("CI").is_some_and(|v| v != "false" && v != "0") {
        env.context.ci = "ci".into();
    } else {
        env.context.ci = "local".into();
    }
    if let (Some(from), Some(to)) = (var("PRE_COMMIT_FROM_REF"), var("PRE_COMMIT_TO_REF")) {
        if env.range.is_none() {
            env.range = Some(RangeHint {
                base: (!is_zero(&from)).then_some(from),
                head: Some(to),
                head_only: false,
                source: RangeSource::PrePush,
                default_branch: None,
            });
        }
    }
    Ok(env)
}

fn is_zero(sha: &str) -> bool {
    !sha.is_empty() && sha.bytes().all(|b| b == b'0')
}

fn github(env: &mut Environment) -> Result<()> {
    env.context.ci = "github".into();
    env.context.actor = var("GITHUB_ACTOR");
    env.context.run_id = var("GITHUB_RUN_ID");
    if let (Some(server), Some(repo), Some(run)) = (
        var("GITHUB_SERVER_URL"),
        var("GITHUB_REPOSITORY"),
        var("GITHUB_RUN_ID"),
    ) {
        env.context.run_url = Some(format!("{server}/{repo}/actions/runs/{run}"));
    }
    let event = var("GITHUB_EVENT_NAME");
    env.context.event = event.clone();
    env.branch = var("GITHUB_HEAD_REF");
    let Some(path) = var("GITHUB_EVENT_PATH") else {
        return Ok(());
    };
    let bytes = std::fs::read(&path)
        .map_err(|e| Error::io(&path, format!("cannot read the GitHub event payload: {e}")))?;
    let payload: Value = serde_json::from_slice(&bytes)
        .map_err(|e| Error::io(&path, format!("the GitHub event payload is not JSON: {e}")))?;
    let str_at = |v: &Value, p: &str| v.pointer(p).and_then(Value::as_str).map(str::to_string);
    env.default_branch = str_at(&payload, "/repository/default_branch");
    if let Some(pr) = payload.get("pull_request") {
        env.context.pr = Some(PullRequest {
            number: pr.get("number").and_then(Value::as_u64).unwrap_or(0),
            title: str_at(pr, "/title").unwrap_or_default(),
            author: str_at(pr, "/user/login").unwrap_or_default(),
            labels: pr
                .get("labels")
                .and_then(Value::as_array)
                .map(|ls| ls.iter().filter_map(|l| str_at(l, "/name")).collect())
                .unwrap_or_default(),
        });
        env.range = Some(RangeHint {
            base: str_at(pr, "/base/sha"),
            head: str_at(pr, "/head/sha"),
            head_only: false,
            source: RangeSource::GithubEvent,
            default_branch: None,
        });
        if env.branch.is_none() {
            env.branch = str_at(pr, "/head/ref");
        }
    } else if let (Some(before), Some(after)) =
        (str_at(&payload, "/before"), str_at(&payload, "/after"))
    {
        let new_branch = is_zero(&before);
        env.range = Some(RangeHint {
            base: (!new_branch).then_some(before),
            head: Some(after),
            head_only: new_branch,
            source: RangeSource::GithubEvent,
            default_branch: env.default_branch.clone(),
        });
    }
    if event.as_deref() == Some("pull_request_review")
        && str_at(&payload, "/review/state").is_some_and(|s| s.eq_ignore_ascii_case("approved"))
    {
        match review_approver(&payload) {
            Ok(login) => env.review_approved_by = Some(login),
            Err(why) => env
                .notes
                .push(format!("the approving review was not counted: {why}")),
        }
    }
    Ok(())
}

/// Who a `pull_request_review` event's approval counts for, as GitHub's own
/// required reviews count it: a reviewer with write access to the
/// repository (owner, member or collaborator: on a public repository any
/// account can submit an "approve"), on the pull request's current head
/// (a later push needs a new approval), who is not the author and not a bot.
fn review_approver(payload: &Value) -> std::result::Result<String, String> {
    let str_at = |p: &str| payload.pointer(p).and_then(Value::as_str);
    let login = str_at("/review/user/login").ok_or("it names no reviewer")?;
    let association = str_at("/review/author_association").unwrap_or("NONE");
    if !["OWNER", "MEMBER", "COLLABORATOR"].contains(&association) {
        return Err(format!(
            "{login} is {association}, not an owner, member or collaborator of the repository"
        ));
    }
    if str_at("/review/user/type") == Some("Bot") || login.ends_with("[bot]") {
        return Err(format!("{login} is a bot"));
    }
    if str_at("/pull_request/user/login") == Some(login) {
        return Err(format!("{login} wrote the pull request"));
    }
    let head = str_at("/pull_request/head/sha");
    let reviewed = str_at("/review/commit_id");
    if head.is_none() || reviewed != head {
        return Err(format!(
            "{login} approved {}, not the pull request's head {}",
            reviewed.map_or("an unnamed commit", |c| &c[..c.len().min(12)]),
            head.map_or("(unnamed)", |c| &c[..c.len().min(12)])
        ));
    }
    Ok(login.to_string())
}

/// Someone (or a label) that approved the change, and how the CI system
/// said so.
#[derive(Debug, Clone)]
pub struct Approver {
    pub name: String,
    /// Label, cli or review (a trailer is read from the commit by `judge`).
    pub via: ApprovalSource,
}

impl Environment {
    /// Approvals the CI system knows: PR labels from `approvals.labels`, an
    /// approving review event, and `--approved-by`.
    pub fn approvers(&self, approval_labels: &[String]) -> Vec<Approver> {
        let mut out = Vec::new();
        if let Some(pr) = &self.context.pr {
            for label in &pr.labels {
                if approval_labels.contains(label) {
                    out.push(Approver {
                        name: format!("label:{label}"),
                        via: ApprovalSource::Label,
                    });
                }
            }
        }
        if let Some(reviewer) = &self.review_approved_by {
            out.push(Approver {
                name: reviewer.clone(),
                via: ApprovalSource::Review,
            });
        }
        for name in &self.context.approvals {
            if self.review_approved_by.as_ref() != Some(name) {
                out.push(Approver {
                    name: name.clone(),
                    via: ApprovalSource::Cli,
                });
            }
        }
        out
    }
}

/// Where a report links a file at the judged head, on GitHub Actions
/// (`GITHUB_SERVER_URL/GITHUB_REPOSITORY/blob/HEAD`); none elsewhere.
pub fn blob_url(head: Option<&str>) -> Option<String> {
    match (var("GITHUB_SERVER_URL"), var("GITHUB_REPOSITORY"), head) {
        (Some(server), Some(repo), Some(head)) if !server.is_empty() && !repo.is_empty() => {
            Some(format!("{server}/{repo}/blob/{head}"))
        }
        _ => None,
    }
}
