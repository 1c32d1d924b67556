//! The `sarif` report: SARIF 2.1.0 as GitHub code scanning reads it (rules
//! from the catalog, one physical location with a region per result,
//! `primaryLocationLineHash` fingerprints, and accepted suppressions for
//! waived, baselined and approved findings, which code scanning closes).
//!
//! It stays within what code scanning accepts: at most 25,000 results and
//! 25,000 rules per run, 20 tags per rule, and a file well under the 10 MB
//! (gzip) upload limit; what is left out is counted in the run and on stderr.

use super::escape::{sarif_message, truncate, uri, uri_path, visible};
use super::github::place_of;
use super::{Rendered, Report};
use crate::finding::{Finding, Severity, Status};
use crate::input::FileStatus;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// Code scanning rejects a run with more results than this.
pub const MAX_RESULTS: usize = 25_000;
/// Or more rules.
const MAX_RULES: usize = 25_000;
/// Bytes of results: with everything else, the document stays under 10 MB
/// uncompressed, so under the 10 MB gzip limit whatever the messages hold.
const RESULT_BYTES: usize = 9_000_000;
/// A result message is cut to this many bytes.
const MESSAGE_BYTES: usize = 2_000;
/// govops' home (Cargo.toml `repository`), where the tool and the built-in
/// rules' documents are described.
const REPOSITORY: &str = env!("CARGO_PKG_REPOSITORY");
const _: () = assert!(!REPOSITORY.is_empty(), "Cargo.toml sets `repository`");

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Deny => "error",
        Severity::Review => "warning",
        Severity::Warn => "note",
    }
}

/// Where a result points, always a file of the checked tree and a line:
/// the finding's own; for a commit finding, the first line its commit
/// changed in the file it names, or in the first file it changed; for a finding about
/// the range or the policy, the config file at the key it concerns, or
/// without a config file the first file the range changed.
fn artifact<'a>(f: &'a Finding, report: &'a Report<'_>) -> (&'a str, u32, u32) {
    if let (Some(file), Some(line)) = (&f.file, f.line) {
        return (file, line.max(1), f.column.unwrap_or(1).max(1));
    }
    if let Some((file, line)) = place_of(f, report) {
        return (file, line.unwrap_or(1).max(1), 1);
    }
    let config = report.config;
    if !config.bytes.is_empty() {
        let family = crate::finding::Finding::family(&f.id);
        let key = match family {
            "BLAST" => "/blast_radius",
            "AI" => "/ai",
            "TAG" => "/tags",
            "WAIVER" => "/waivers",
            "POLICY" => "/policy",
            "INPUT" => "/manifests",
            _ => "",
        };
        let line = [format!("/severity/{}", f.id), key.to_string()]
            .iter()
            .filter(|p| !p.is_empty() && !p.ends_with('/'))
            .find_map(|p| config.line_of(p).filter(|l| *l > 1))
            .unwrap_or(1);
        return (&report.input.policy.config_path, line, 1);
    }
    match report
        .input
        .changes
        .files
        .iter()
        .find(|c| c.status != FileStatus::Deleted)
    {
        Some(c) => (&c.path, 1, 1),
        None => (&report.input.policy.config_path, 1, 1),
    }
}

/// A fingerprint that survives unrelated edits (no line number: rule, file,
/// object or commit, and message) and tells distinct findings apart (two
/// labels missing on one line differ by message; true duplicates by their
/// occurrence, as GitHub's own `hash:n` does).
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

fn rule(id: &str, report: &Report<'_>) -> Value {
    let Some(d) = report.catalog.iter().find(|d| d.id == id) else {
        // A rule with no document: still described, so the alert page is not empty.
        let text = format!("Rule {} (a policy rule without a document).", visible(id));
        return json!({
            "id": id,
            "shortDescription": {"text": format!("rule {}", visible(id))},
            "fullDescription": {"text": text},
            "help": {"text": format!("{text} `govops rules show {}` prints what govops knows of it.", visible(id))},
            "properties": {"tags": ["govops", "user"]}
        });
    };
    let mut rule = json!({
        "id": d.id,
        "name": d.title.replace(' ', ""),
        "shortDescription": {"text": d.title},
        "fullDescription": {"text": section(&d.body, "What it checks")},
        "help": {"text": d.body, "markdown": d.body},
        "defaultConfiguration": {"level": level(d.severity)},
        "properties": {"tags": ["govops", d.family]}
    });
    // A built-in rule's page is in govops' repository; a user rule's is in
    // the checked repository, when its URL is known.
    let uri = match (&d.source, &report.blob_url) {
        (None, _) => Some(format!(
            "{}/blob/main/rules/{}/{}.md",
            REPOSITORY.trim_end_matches('/'),
            uri_path(&d.family),
            uri_path(&d.id)
        )),
        (Some(source), Some(blob)) => Some(format!("{}/{}", uri(blob), uri_path(source))),
        (Some(_), None) => None,
    };
    if let Some(uri) = uri {
        rule["helpUri"] = json!(uri);
    }
    rule
}

fn result(
    f: &Finding,
    rule_index: usize,
    occurrences: &mut HashMap<String, u32>,
    report: &Report<'_>,
) -> Value {
    let (file, line, column) = artifact(f, report);
    let uri = uri_path(file);
    let hash = fingerprint(f, &uri);
    let n = occurrences.entry(hash.clone()).or_insert(0);
    *n += 1;
    let mut message = sarif_message(&truncate(&f.message, MESSAGE_BYTES));
    if let Some(label) = f
        .commit_label(&report.input.commits)
        .filter(|_| f.file.is_none())
    {
        message.push_str(&format!(" (commit {})", sarif_message(&label)));
    }
    let mut result = json!({
        "ruleId": f.id,
        "ruleIndex": rule_index,
        "level": level(f.severity),
        "message": {"text": message},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": uri, "uriBaseId": "%SRCROOT%"},
            "region": {"startLine": line, "startColumn": column},
        }}],
        "partialFingerprints": {
            "primaryLocationLineHash": format!("{}:{n}", &hash[..16]),
            "govopsFinding/v1": hash,
        },
        "properties": {"severity": f.severity, "status": f.status, "commit": f.commit},
    });
    // An accepted suppression closes the alert (GitHub's SARIF support:
    // `suppressions[].status: accepted`); the level stays the rule's, so the
    // record says what was accepted.
    let justification = match f.status {
        Status::Open => None,
        Status::Waived => {
            let w = f.waiver.as_ref();
            Some(format!(
                "waived until {} by {}: {}",
                w.map_or("", |w| &w.expires),
                w.map_or("", |w| &w.owner),
                w.map_or("", |w| &w.reason)
            ))
        }
        Status::Baselined => Some(report.baselined_reason()),
        Status::Approved => Some(format!(
            "approved by {}",
            f.approval
                .as_ref()
                .map(|a| a.by.join(", "))
                .unwrap_or_default()
        )),
    };
    if let Some(text) = justification {
        result["suppressions"] = json!([{
            "kind": "external",
            "status": "accepted",
            "justification": visible(&truncate(&text, MESSAGE_BYTES)),
        }]);
    }
    result
}

pub fn render(report: &Report<'_>) -> Rendered {
    let findings = &report.judgement.findings;
    // Most severe first, within the limits.
    let mut order: Vec<&Finding> = findings.iter().collect();
    order.sort_by_key(|f| super::priority(f));
    // The catalog's rules, then others the findings name, most severe
    // first, as many as SARIF consumers take; a finding of a rule left out
    // is left out too.
    let mut ids = crate::catalog::rule_ids(&report.catalog, order.iter().copied());
    ids.truncate(MAX_RULES.max(report.catalog.len()));
    let index: HashMap<&str, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    let mut occurrences = HashMap::new();
    let mut results = Vec::new();
    let mut bytes = 0;
    let mut left_out = 0;
    for f in &order {
        let known = index.get(f.id.as_str()).copied();
        let (Some(i), false) = (known, results.len() >= MAX_RESULTS || bytes >= RESULT_BYTES)
        else {
            left_out += 1;
            continue;
        };
        let r = result(f, i, &mut occurrences, report);
        bytes += serde_json::to_string(&r)
            .expect("a JSON value serialises in memory")
            .len();
        results.push(r);
    }
    let rules: Vec<Value> = ids.iter().map(|id| rule(id, report)).collect();
    let mut notices = Vec::new();
    let mut notifications = Vec::new();
    if left_out > 0 {
        let line = format!(
            "{left_out} of {} finding(s) left out of the SARIF report (code scanning accepts at most {MAX_RESULTS} results and 10 MB per run; the most severe were kept): every one is in {}",
            findings.len(),
            report.full_list()
        );
        notifications.push(json!({"level": "warning", "message": {"text": sarif_message(&line)}}));
        notices.push(format!("sarif: {line}"));
    }
    // What was skipped, by path: every report lists it.
    for note in &report.notes {
        notifications.push(json!({"level": "note", "message": {"text": sarif_message(note)}}));
    }
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "govops",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": REPOSITORY,
                "rules": rules,
            }},
            "invocations": [{
                "executionSuccessful": true,
                "toolExecutionNotifications": notifications,
            }],
            "originalUriBaseIds": {"%SRCROOT%": {"uri": format!("file://{}/", uri_path(report.input.repo.root.trim_end_matches('/')))}},
            "columnKind": "unicodeCodePoints",
            "results": results,
            "properties": {
                "verdict": report.judgement.verdict,
                "policyDigest": report.input.policy.digest,
                "findings": findings.len(),
                "omittedResults": left_out,
            },
        }],
    });
    let mut text = serde_json::to_string_pretty(&doc).expect("a JSON value serialises in memory");
    text.push('\n');
    Rendered { text, notices }
}

/// The text of one `## Heading` section of a rule document.
fn section(body: &str, heading: &str) -> String {
    let start = format!("## {heading}\n");
    body.split_once(&start)
        .map(|(_, rest)| rest.split("\n## ").next().unwrap_or("").trim().to_string())
        .unwrap_or_default()
}
