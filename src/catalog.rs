//! The rule catalog: id, family, default severity, title and documentation of
//! every rule, read from the Markdown kept beside each rule: `rules/` for the
//! built-in rules, the policy dirs for a team's own rules (same format).

use crate::error::{Error, Result};
use crate::finding::Severity;

include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

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
    /// The set the rule's findings are in, unless the config overrides it.
    pub severity: Severity,
    pub title: String,
    /// The Markdown body, from `## What it checks` on.
    pub body: String,
    /// The file a user rule's documentation came from; `None` for built-ins.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// A rule document's front matter as written, and its Markdown body.
struct Front<'a> {
    id: String,
    family: String,
    severity: String,
    title: String,
    body: &'a str,
}

/// Split a rule document: `---` front matter (id, family, severity, title),
/// then Markdown. None when it has no front matter or lacks a field.
fn split_front(text: &str) -> Option<Front<'_>> {
    let rest = text.strip_prefix("---\n")?;
    let (front, body) = rest.split_once("\n---\n")?;
    let field = |name: &str| {
        front
            .lines()
            .find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(':')))
            .map(|v| v.trim().to_string())
    };
    Some(Front {
        id: field("id")?,
        family: field("family")?,
        severity: field("severity")?,
        title: field("title")?,
        body,
    })
}

impl Front<'_> {
    /// The document, when its severity is one.
    fn into_doc(self) -> std::result::Result<RuleDoc, String> {
        Ok(RuleDoc {
            severity: self.severity.parse()?,
            id: self.id,
            family: self.family,
            title: self.title,
            body: self.body.trim().to_string(),
            source: None,
        })
    }
}

/// Parse one rule document: `---` front matter (id, family, severity, title), then Markdown.
pub fn parse_doc(text: &str) -> Option<RuleDoc> {
    split_front(text)?.into_doc().ok()
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
    let Some((head, _)) = rest.split_once("\n---\n") else {
        return Ok(None);
    };
    if !head.lines().any(|l| l.starts_with("id:")) {
        return Ok(None);
    }
    let bad = |what: String| Error::io(name, format!("rule documentation: {what}"));
    let front = split_front(&text).ok_or_else(|| {
        bad("the front matter needs `id`, `family`, `severity` and `title`".into())
    })?;
    let id_shape = regex::Regex::new(r"^[A-Z]+(-[A-Z0-9]+)+$").expect("valid regex");
    if !id_shape.is_match(&front.id) {
        return Err(bad(format!(
            "id {:?} is not of the form `[A-Z]+(-[A-Z0-9]+)+`, e.g. ACME-NET-001",
            front.id
        )));
    }
    let doc = front.into_doc().map_err(bad)?;
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
        .filter(|(p, _)| {
            std::path::Path::new(p)
                .extension()
                .is_some_and(|e| e == "md")
        })
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

/// Every rule a report names: the catalog's, then any other id the findings
/// carry (a rule without a doc), in the order given.
pub fn rule_ids<'a>(
    docs: &'a [RuleDoc],
    findings: impl IntoIterator<Item = &'a crate::finding::Finding>,
) -> Vec<&'a str> {
    let mut ids: Vec<&str> = docs.iter().map(|d| d.id.as_str()).collect();
    let mut seen: std::collections::HashSet<&str> = ids.iter().copied().collect();
    for f in findings {
        if seen.insert(f.id.as_str()) {
            ids.push(&f.id);
        }
    }
    ids
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
                "GOV-CLOUD-001",
                "GOV-CLOUD-002",
                "GOV-CLOUD-003",
                "GOV-CLOUD-004",
                "GOV-CLOUD-005",
                "GOV-CLOUD-006",
                "GOV-CLOUD-007",
                "GOV-CLOUD-008",
                "GOV-INPUT-001",
                "GOV-INPUT-002",
                "GOV-INPUT-003",
                "GOV-MODEL-001",
                "GOV-MODEL-002",
                "GOV-MODEL-003",
                "GOV-OTEL-001",
                "GOV-OTEL-002",
                "GOV-OTEL-003",
                "GOV-POLICY-001",
                "GOV-POLICY-002",
                "GOV-TAG-001",
                "GOV-TAG-002",
                "GOV-TAG-003",
                "GOV-WAIVER-001"
            ]
        );
    }

    use regorus::unstable::{Expr, Literal, Query, Rule, RuleHead};
    use std::collections::{BTreeMap, BTreeSet};

    /// What a piece of Rego reaches: the rule ids it writes (`"id": "..."`
    /// in an object literal) and the names it refers to.
    #[derive(Default)]
    struct Reach {
        ids: BTreeSet<String>,
        names: BTreeSet<String>,
    }

    fn text(e: &Expr) -> Option<&str> {
        match e {
            Expr::String { value, .. }
            | Expr::RawString { value, .. }
            | Expr::Var { value, .. } => value.as_string().ok().map(|s| &**s),
            _ => None,
        }
    }

    fn expr(e: &Expr, r: &mut Reach) {
        match e {
            Expr::Var { .. } => {
                r.names.extend(text(e).map(str::to_string));
            }
            Expr::String { .. }
            | Expr::RawString { .. }
            | Expr::Number { .. }
            | Expr::Bool { .. }
            | Expr::Null { .. } => {}
            Expr::Array { items, .. } | Expr::Set { items, .. } => {
                items.iter().for_each(|i| expr(i, r));
            }
            Expr::Object { fields, .. } => {
                for (_, key, value) in fields {
                    if matches!(&**key, Expr::String { .. }) && text(key) == Some("id") {
                        match &**value {
                            Expr::String { .. } | Expr::RawString { .. } => {
                                r.ids.extend(text(value).map(str::to_string));
                            }
                            // An id the code computes cannot be paired
                            // with its set here: refuse it.
                            other => panic!("a finding's id is not a string literal: {other:?}"),
                        }
                    }
                    expr(key, r);
                    expr(value, r);
                }
            }
            Expr::ArrayCompr { term, query: q, .. } | Expr::SetCompr { term, query: q, .. } => {
                expr(term, r);
                query(q, r);
            }
            Expr::ObjectCompr {
                key,
                value,
                query: q,
                ..
            } => {
                expr(key, r);
                expr(value, r);
                query(q, r);
            }
            Expr::Call { fcn, params, .. } => {
                expr(fcn, r);
                params.iter().for_each(|p| expr(p, r));
            }
            Expr::UnaryExpr { expr: e, .. } => expr(e, r),
            Expr::RefDot { refr, .. } => expr(refr, r),
            Expr::RefBrack { refr, index, .. } => {
                expr(refr, r);
                expr(index, r);
            }
            Expr::BinExpr { lhs, rhs, .. }
            | Expr::BoolExpr { lhs, rhs, .. }
            | Expr::ArithExpr { lhs, rhs, .. }
            | Expr::AssignExpr { lhs, rhs, .. } => {
                expr(lhs, r);
                expr(rhs, r);
            }
            Expr::Membership {
                key,
                value,
                collection,
                ..
            } => {
                key.iter().for_each(|k| expr(k, r));
                expr(value, r);
                expr(collection, r);
            }
        }
    }

    fn query(q: &Query, r: &mut Reach) {
        for stmt in &q.stmts {
            for w in &stmt.with_mods {
                expr(&w.refr, r);
                expr(&w.r#as, r);
            }
            match &stmt.literal {
                Literal::SomeVars { .. } => {}
                Literal::SomeIn {
                    key,
                    value,
                    collection,
                    ..
                } => {
                    key.iter().for_each(|k| expr(k, r));
                    expr(value, r);
                    expr(collection, r);
                }
                Literal::Expr { expr: e, .. } | Literal::NotExpr { expr: e, .. } => expr(e, r),
                Literal::Every {
                    domain, query: q, ..
                } => {
                    expr(domain, r);
                    query(q, r);
                }
            }
        }
    }

    /// A rule's name (the first part of its head's reference) and all it reaches.
    fn rule(rule: &Rule) -> (String, Reach) {
        let mut r = Reach::default();
        let refr = match rule {
            Rule::Spec { head, bodies, .. } => {
                for b in bodies {
                    if let Some(a) = &b.assign {
                        expr(&a.value, &mut r);
                    }
                    query(&b.query, &mut r);
                }
                match head {
                    RuleHead::Compr { refr, assign, .. } => {
                        assign.iter().for_each(|a| expr(&a.value, &mut r));
                        refr
                    }
                    RuleHead::Set { refr, key, .. } => {
                        key.iter().for_each(|k| expr(k, &mut r));
                        refr
                    }
                    RuleHead::Func {
                        refr, args, assign, ..
                    } => {
                        args.iter().for_each(|a| expr(a, &mut r));
                        assign.iter().for_each(|a| expr(&a.value, &mut r));
                        refr
                    }
                }
            }
            Rule::Default { refr, value, .. } => {
                expr(value, &mut r);
                refr
            }
        };
        let mut first = &**refr;
        while let Expr::RefDot { refr, .. } | Expr::RefBrack { refr, .. } = first {
            first = refr;
        }
        (text(first).unwrap_or_default().to_string(), r)
    }

    /// For each built-in rule id, the finding sets that can emit it, read
    /// from the Rego as the engine compiled it: the ids each `deny`,
    /// `review` or `warn` rule writes, itself or through the functions and
    /// rules of its package it refers to (transitively). A helper shared by
    /// two sets pairs its ids with both, which the test then refuses.
    fn ids_by_set() -> BTreeMap<String, BTreeSet<String>> {
        let mut engine = regorus::Engine::new();
        engine.set_rego_v0(false);
        for (path, text) in BUILTIN_RULES.iter().filter(|(p, _)| {
            std::path::Path::new(p)
                .extension()
                .is_some_and(|e| e == "rego")
                && !p.ends_with("_test.rego")
        }) {
            engine
                .add_policy(path.to_string(), text.to_string())
                .unwrap_or_else(|e| panic!("{path}: {e}"));
        }
        let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for module in engine.get_modules() {
            let mut rules: BTreeMap<String, Vec<Reach>> = BTreeMap::new();
            for r in &module.policy {
                let (name, reach) = rule(r);
                rules.entry(name).or_default().push(reach);
            }
            for set in ["deny", "review", "warn"] {
                let mut seen = BTreeSet::from([set.to_string()]);
                let mut todo = vec![set.to_string()];
                while let Some(name) = todo.pop() {
                    for reach in rules.get(&name).into_iter().flatten() {
                        for id in &reach.ids {
                            out.entry(id.clone()).or_default().insert(set.to_string());
                        }
                        for n in &reach.names {
                            if rules.contains_key(n) && seen.insert(n.clone()) {
                                todo.push(n.clone());
                            }
                        }
                    }
                }
            }
        }
        out
    }

    #[test]
    fn every_rego_rule_id_is_in_the_catalog_with_its_set() {
        let docs = builtin();
        let found = ids_by_set();
        for (id, sets) in &found {
            let doc = docs
                .iter()
                .find(|d| d.id == *id)
                .unwrap_or_else(|| panic!("{id} has no doc"));
            let sets: Vec<&str> = sets.iter().map(String::as_str).collect();
            assert_eq!(
                sets,
                [doc.severity.as_str()],
                "{id} is in the finding set(s) {sets:?} but documented as {}",
                doc.severity
            );
        }
        // Every documented rule is emitted by a set (the waiver rule, by
        // the judge itself).
        for d in docs.iter().filter(|d| d.id != crate::judge::WAIVER_RULE) {
            assert!(
                found.contains_key(&d.id),
                "{} is documented but no rule emits it",
                d.id
            );
        }
        assert!(
            found.contains_key("GOV-TAG-002"),
            "ids written by a function are found"
        );
    }

    #[test]
    fn nearest_ids() {
        assert_eq!(nearest("GOV-TAG-01", &builtin()), vec!["GOV-TAG-001"]);
    }
}
