//! The `sarif` report: SARIF 2.1.0 as GitHub code scanning reads it (rules
//! from the catalog, one physical location per result, fingerprints, and
//! suppressions for waived and approved findings).

use super::Report;
use crate::finding::{Finding, Severity, Status};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Deny => "error",
        Severity::Review => "warning",
        Severity::Warn => "note",
    }
}

/// Where a result points: the finding's file; for a commit finding without
/// one, the first file that commit changed; else the config file.
fn artifact<'a>(f: &'a Finding, report: &'a Report<'_>) -> &'a str {
    if let Some(file) = &f.file {
        return file;
    }
    if let Some(sha) = &f.commit {
        if let Some(c) = report
            .input
            .commits
            .iter()
            .find(|c| c.sha.as_ref() == Some(sha))
        {
            if let Some(file) = c.files.first() {
                return &file.path;
            }
        }
    }
    &report.input.policy.config_path
}

/// A fingerprint that survives unrelated edits: rule, file, object or commit,
/// and message, but not the line.
fn fingerprint(f: &Finding, uri: &str) -> String {
    let mut h = Sha256::new();
    for part in [
        f.id.as_str(),
        uri,
        f.name.as_deref().unwrap_or(""),
        f.commit.as_deref().unwrap_or(""),
        f.message.as_str(),
    ] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    crate::policy::hex(&h.finalize()[..16])
}

pub fn render(report: &Report<'_>) -> String {
    let findings = &report.judgement.findings;
    let mut ids: Vec<String> = report.catalog.iter().map(|d| d.id.clone()).collect();
    for f in findings {
        if !ids.contains(&f.id) {
            ids.push(f.id.clone());
        }
    }
    let rules: Vec<Value> = ids
        .iter()
        .map(|id| match report.catalog.iter().find(|d| d.id == *id) {
            Some(d) => {
                let mut rule = json!({
                    "id": d.id,
                    "name": d.title.replace(' ', ""),
                    "shortDescription": {"text": d.title},
                    "fullDescription": {"text": section(&d.body, "What it checks")},
                    "help": {"text": d.body, "markdown": d.body},
                    "defaultConfiguration": {"level": level(match d.severity.as_str() { "deny" => Severity::Deny, "review" => Severity::Review, _ => Severity::Warn })},
                    "properties": {"tags": ["govops", d.family]}
                });
                // A built-in rule's page is in govops' repository; a user
                // rule's is in the checked repository, when its URL is known.
                let uri = match (&d.source, &report.blob_url) {
                    (None, _) => Some(format!(
                        "https://github.com/govops/govops/blob/main/rules/{}/{}.md",
                        d.family, d.id
                    )),
                    (Some(source), Some(blob)) => Some(format!("{blob}/{source}")),
                    (Some(_), None) => None,
                };
                if let Some(uri) = uri {
                    rule["helpUri"] = json!(uri);
                }
                rule
            }
            None => json!({
                "id": id,
                "shortDescription": {"text": format!("user rule {id}")},
                "properties": {"tags": ["govops", "user"]}
            }),
        })
        .collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let uri = artifact(f, report);
            let mut location = json!({"physicalLocation": {"artifactLocation": {"uri": uri, "uriBaseId": "%SRCROOT%"}}});
            if let Some(line) = f.line {
                location["physicalLocation"]["region"] = json!({"startLine": line, "startColumn": f.column.unwrap_or(1)});
            }
            let mut result = json!({
                "ruleId": f.id,
                "ruleIndex": ids.iter().position(|i| *i == f.id).unwrap_or(0),
                "level": level(f.severity),
                "message": {"text": f.message},
                "locations": [location],
                "partialFingerprints": {"govopsFinding/v1": fingerprint(f, uri)},
                "properties": {"severity": f.severity, "status": f.status, "commit": f.commit},
            });
            match f.status {
                Status::Open => {}
                Status::Waived => {
                    let w = f.waiver.as_ref();
                    result["suppressions"] = json!([{
                        "kind": "external",
                        "status": "accepted",
                        "justification": format!("waived until {} by {}: {}", w.map_or("", |w| &w.expires), w.map_or("", |w| &w.owner), w.map_or("", |w| &w.reason)),
                    }]);
                }
                Status::Approved => {
                    result["suppressions"] = json!([{
                        "kind": "external",
                        "status": "accepted",
                        "justification": format!("approved by {}", f.approval.as_ref().map(|a| a.by.join(", ")).unwrap_or_default()),
                    }]);
                }
            }
            result
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "govops",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/govops/govops",
                "rules": rules,
            }},
            "originalUriBaseIds": {"%SRCROOT%": {"uri": format!("file://{}/", report.input.repo.root.trim_end_matches('/'))}},
            "columnKind": "unicodeCodePoints",
            "results": results,
            "properties": {"verdict": report.judgement.verdict, "policyDigest": report.input.policy.digest},
        }],
    });
    let mut out = serde_json::to_string_pretty(&doc).unwrap_or_default();
    out.push('\n');
    out
}

/// The text of one `## Heading` section of a rule document.
fn section(body: &str, heading: &str) -> String {
    let start = format!("## {heading}\n");
    body.split_once(&start)
        .map(|(_, rest)| rest.split("\n## ").next().unwrap_or("").trim().to_string())
        .unwrap_or_default()
}
