//! The rule catalog: id, family, default severity, title and documentation of
//! every rule, read from the Markdown kept beside each rule: `rules/` for the
//! built-in rules, the policy dirs for a team's own rules (same format).

use crate::error::{Error, Result};
use crate::policy::BUILTIN_RULES;

/// The headings every rule's documentation has, in order.
pub const HEADINGS: [&str; 5] = [
    "What it checks",
    "Why it matters",
    "Example",
    "How to fix",
    "How to waive",
];

#[derive(Debug, Clone, serde::Serialize)]
pub struct RuleDoc {
    pub id: String,
    pub family: String,
    pub severity: String,
    pub title: String,
    /// The Markdown body, from `## What it checks` on.
    pub body: String,
    /// The file a user rule's documentation came from; `None` for built-ins.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// Parse one rule document: `---` front matter (id, family, severity, title), then Markdown.
pub fn parse_doc(text: &str) -> Option<RuleDoc> {
    let rest = text.strip_prefix("---\n")?;
    let (front, body) = rest.split_once("\n---\n")?;
    let field = |name: &str| {
        front
            .lines()
            .find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(':')))
            .map(|v| v.trim().to_string())
    };
    Some(RuleDoc {
        id: field("id")?,
        family: field("family")?,
        severity: field("severity")?,
        title: field("title")?,
        body: body.trim().to_string(),
        source: None,
    })
}

/// A Markdown file in a user policy dir: the documentation of a user rule when
/// it opens with front matter naming an `id`; any other Markdown (a README) is
/// not a rule document. A rule document missing a field is an error naming
/// the file, so a typo does not silently drop a rule from the catalog.
pub fn parse_user_doc(name: &str, text: &str) -> Result<Option<RuleDoc>> {
    let text = text.replace("\r\n", "\n");
    let Some(rest) = text.strip_prefix("---\n") else {
        return Ok(None);
    };
    let Some((front, _)) = rest.split_once("\n---\n") else {
        return Ok(None);
    };
    if !front.lines().any(|l| l.starts_with("id:")) {
        return Ok(None);
    }
    let bad = |what: String| Error::io(name, format!("rule documentation: {what}"));
    let doc = parse_doc(&text).ok_or_else(|| {
        bad("the front matter needs `id`, `family`, `severity` and `title`".into())
    })?;
    let id_shape = regex::Regex::new(r"^[A-Z]+(-[A-Z0-9]+)+$").expect("valid regex");
    if !id_shape.is_match(&doc.id) {
        return Err(bad(format!(
            "id {:?} is not of the form `[A-Z]+(-[A-Z0-9]+)+`, e.g. ACME-NET-001",
            doc.id
        )));
    }
    if !["deny", "review", "warn"].contains(&doc.severity.as_str()) {
        return Err(bad(format!(
            "severity {:?} is not one of deny, review, warn",
            doc.severity
        )));
    }
    Ok(Some(RuleDoc {
        source: Some(name.to_string()),
        ..doc
    }))
}

/// The built-in documents and the user's, ordered by id. An id documented
/// twice is an error naming both places.
pub fn with_user_docs(user: Vec<RuleDoc>) -> Result<Vec<RuleDoc>> {
    let mut docs = builtin();
    for doc in user {
        if let Some(other) = docs.iter().find(|d| d.id == doc.id) {
            let there = other.source.as_deref().unwrap_or("the built-in rules");
            return Err(Error::io(
                doc.source.as_deref().unwrap_or_default(),
                format!("rule {} is already documented in {there}", doc.id),
            ));
        }
        docs.push(doc);
    }
    docs.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(docs)
}

/// Every built-in rule, ordered by id.
pub fn builtin() -> Vec<RuleDoc> {
    let mut docs: Vec<RuleDoc> = BUILTIN_RULES
        .iter()
        .filter(|(p, _)| p.ends_with(".md"))
        .filter_map(|(_, text)| parse_doc(text))
        .collect();
    docs.sort_by(|a, b| a.id.cmp(&b.id));
    docs
}

/// The known ids closest to an unknown one, for "did you mean".
pub fn nearest<'a>(id: &str, docs: &'a [RuleDoc]) -> Vec<&'a str> {
    let mut scored: Vec<(usize, &str)> = docs
        .iter()
        .map(|d| (distance(&id.to_uppercase(), &d.id), d.id.as_str()))
        .collect();
    scored.sort();
    let best = scored.first().map_or(0, |s| s.0);
    scored
        .into_iter()
        .take_while(|(d, _)| *d <= best)
        .take(3)
        .map(|(_, id)| id)
        .collect()
}

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push(
                (prev[j] + usize::from(ca != *cb))
                    .min(prev[j + 1] + 1)
                    .min(cur[j] + 1),
            );
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_rule_is_documented_once_with_every_heading() {
        let docs = builtin();
        let mut seen = HashSet::new();
        for d in &docs {
            assert!(seen.insert(d.id.clone()), "duplicate rule id {}", d.id);
            let mut at = 0;
            for h in HEADINGS {
                let pos = d.body[at..]
                    .find(&format!("## {h}\n"))
                    .unwrap_or_else(|| panic!("{} lacks `## {h}`", d.id));
                at += pos + 1;
            }
            assert!(
                ["deny", "review", "warn"].contains(&d.severity.as_str()),
                "{}",
                d.id
            );
        }
        let ids: Vec<&str> = docs.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "GOV-AI-001",
                "GOV-AI-002",
                "GOV-AI-003",
                "GOV-AI-004",
                "GOV-AI-005",
                "GOV-AI-006",
                "GOV-BLAST-001",
                "GOV-BLAST-002",
                "GOV-BLAST-003",
                "GOV-BLAST-004",
                "GOV-BLAST-005",
                "GOV-INPUT-001",
                "GOV-INPUT-002",
                "GOV-INPUT-003",
                "GOV-POLICY-001",
                "GOV-POLICY-002",
                "GOV-TAG-001",
                "GOV-TAG-002",
                "GOV-TAG-003",
                "GOV-WAIVER-001"
            ]
        );
    }

    #[test]
    fn every_rego_rule_id_is_in_the_catalog_with_its_set() {
        let docs = builtin();
        let re = regex::Regex::new(
            r#"(?s)(deny|review|warn) contains \w+ if \{.*?"id": "(GOV-[A-Z]+-\d+)""#,
        )
        .unwrap();
        let mut found = 0;
        for (path, text) in BUILTIN_RULES
            .iter()
            .filter(|(p, _)| p.ends_with(".rego") && !p.ends_with("_test.rego"))
        {
            for cap in re.captures_iter(text) {
                found += 1;
                let doc = docs
                    .iter()
                    .find(|d| d.id == cap[2])
                    .unwrap_or_else(|| panic!("{path}: {} has no doc", &cap[2]));
                assert_eq!(
                    doc.severity, &cap[1],
                    "{path}: {} fires in {} but is documented as {}",
                    &cap[2], &cap[1], doc.severity
                );
            }
        }
        assert!(found >= 14, "found {found}");
    }

    #[test]
    fn nearest_ids() {
        assert_eq!(nearest("GOV-TAG-01", &builtin()), vec!["GOV-TAG-001"]);
    }
}
