//! AI provenance: which tool, model and session produced a commit, read from
//! its trailers, identities, subject and body through the identity table
//! (`rules/ai/identities.yaml`), which is data so that it can grow without a release.

use crate::input::{Ai, Declared, Evidence, EvidenceSource, Identity, Tool, Trailer};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The identity table shipped with the built-in rules, as JSON: converted
/// from `rules/ai/identities.yaml` by the build (YAML took a tenth of a
/// commit-msg hook to parse, JSON a hundredth of that).
const BUILTIN_TABLE: &str = include_str!(concat!(env!("OUT_DIR"), "/identities.json"));

/// The table of AI identities and trailer keys, with the index `identify`
/// searches. Built only by `IdentityTable::new`, so that no table is ever
/// without its index (an empty index matches nothing).
#[derive(Debug, Clone)]
pub struct IdentityTable {
    trailers: TrailerKeys,
    tools: Vec<ToolEntry>,
    index: IdentityIndex,
}

/// The table as `rules/ai/identities.yaml` writes it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TableFile {
    trailers: TrailerKeys,
    tools: Vec<ToolEntry>,
}

/// A pattern's place in the table: its tool, and its place among the tool's
/// identities. Ordered as the table is, so the first match stays first.
type PatternAt = (u32, u32);

/// Which identity patterns a name and email can match, so that `identify`
/// tries those and not the whole table (every commit's author, committer
/// and trailers against every pattern was a fiftieth of a long check). Most
/// patterns are exact: such a pattern matches one text, so it is filed under
/// that text; only one with a `*` in every part it sets is tried on every
/// identity.
#[derive(Debug, Clone, Default)]
struct IdentityIndex {
    by_name: HashMap<String, Vec<PatternAt>>,
    by_email: HashMap<String, Vec<PatternAt>>,
    wildcards: Vec<PatternAt>,
}

impl IdentityIndex {
    /// Index `tools`, their patterns already lower-cased.
    fn of(tools: &[ToolEntry]) -> Self {
        let mut index = IdentityIndex::default();
        let exact = |g: &Option<String>| g.as_ref().filter(|g| !g.contains('*')).cloned();
        for (t, tool) in (0u32..).zip(tools) {
            for (i, p) in (0u32..).zip(&tool.identities) {
                let at = (t, i);
                if let Some(name) = exact(&p.name) {
                    index.by_name.entry(name).or_default().push(at);
                } else if let Some(email) = exact(&p.email) {
                    index.by_email.entry(email).or_default().push(at);
                } else if p.name.is_some() || p.email.is_some() {
                    index.wildcards.push(at);
                }
                // A pattern with neither part matches nothing.
            }
        }
        index
    }

    /// The patterns that may match, in table order.
    fn candidates(&self, lname: &str, lemail: &str) -> Vec<PatternAt> {
        let mut out: Vec<PatternAt> = self.wildcards.clone();
        out.extend(self.by_name.get(lname).into_iter().flatten());
        out.extend(self.by_email.get(lemail).into_iter().flatten());
        out.sort_unstable();
        out
    }
}

/// What a team adds to the table (`ai.identities` in its config, or the file
/// named there): tools, and trailer keys for each class, of the built-in
/// table's shape. Its entries come first: a team's reading of an identity
/// wins over the built-in one.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TableExtension {
    #[serde(default)]
    pub trailers: TrailerKeys,
    #[serde(default)]
    pub tools: Vec<ToolEntry>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct TrailerKeys {
    coauthor: Vec<String>,
    assisted: Vec<String>,
    codeveloped: Vec<String>,
    declaration: Vec<String>,
    human: Vec<String>,
    tool: Vec<String>,
    model: Vec<String>,
    session: Vec<String>,
    signoff: Vec<String>,
    /// `Agent-Signature: MODEL on behalf of NAME`: the model of the commit.
    signature: Vec<String>,
}

/// One tool: its id, the names it goes by, and the evidence it leaves.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ToolEntry {
    id: String,
    #[serde(default)]
    names: Vec<String>,
    #[serde(default)]
    identities: Vec<IdentityPattern>,
    #[serde(default)]
    body: Vec<String>,
    #[serde(default)]
    subjects: Vec<String>,
    #[serde(default)]
    sessions: Vec<String>,
    #[serde(default)]
    markers: Vec<Marker>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct IdentityPattern {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    model: Option<ModelFrom>,
    #[serde(default)]
    generic: Vec<String>,
    /// With `model: name`: globs of the vendor's model names; a name that
    /// matches none (an agent's own name) is not taken as a model.
    #[serde(default)]
    models: Vec<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum ModelFrom {
    Name,
    Parens,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct Marker {
    key: String,
    value: String,
}

/// What a commit shows of itself, for provenance.
pub struct CommitFacts<'a> {
    pub subject: &'a str,
    pub body: &'a str,
    pub author: (&'a str, &'a str),
    pub committer: (&'a str, &'a str),
    /// The real trailer block, as git parses it.
    pub trailers: &'a [Trailer],
    /// Trailer-shaped lines elsewhere in the body.
    pub body_lines: &'a [Trailer],
}

/// Provenance of one commit, and the people its trailers name.
pub struct Provenance {
    pub ai: Ai,
    pub reviews: Vec<Identity>,
    pub signoffs: Vec<Identity>,
}

impl TableExtension {
    /// Whether it adds any trailer key.
    pub fn has_trailers(&self) -> bool {
        let t = &self.trailers;
        [
            &t.coauthor,
            &t.assisted,
            &t.codeveloped,
            &t.declaration,
            &t.human,
            &t.tool,
            &t.model,
            &t.session,
            &t.signoff,
            &t.signature,
        ]
        .iter()
        .any(|k| !k.is_empty())
    }
}

impl IdentityTable {
    pub fn builtin() -> Self {
        let file: TableFile =
            serde_json::from_str(BUILTIN_TABLE).expect("the built-in identity table is valid");
        Self::new(file.trailers, file.tools)
    }

    /// A table of `tools` (their patterns lower-cased here) and `trailers`.
    fn new(trailers: TrailerKeys, mut tools: Vec<ToolEntry>) -> Self {
        lower(&mut tools);
        let index = IdentityIndex::of(&tools);
        IdentityTable {
            trailers,
            tools,
            index,
        }
    }

    /// The table with a team's additions: their tools first, their trailer
    /// keys added to each class.
    pub fn extended(&self, ext: &TableExtension) -> Self {
        // Lower-casing the built-in patterns again changes nothing.
        let mut tools = ext.tools.clone();
        tools.extend(self.tools.iter().cloned());
        let mut trailers = self.trailers.clone();
        let t = &ext.trailers;
        for (mine, theirs) in [
            (&mut trailers.coauthor, &t.coauthor),
            (&mut trailers.assisted, &t.assisted),
            (&mut trailers.codeveloped, &t.codeveloped),
            (&mut trailers.declaration, &t.declaration),
            (&mut trailers.human, &t.human),
            (&mut trailers.tool, &t.tool),
            (&mut trailers.model, &t.model),
            (&mut trailers.session, &t.session),
            (&mut trailers.signoff, &t.signoff),
            (&mut trailers.signature, &t.signature),
        ] {
            mine.extend(theirs.iter().cloned());
        }
        Self::new(trailers, tools)
    }

    /// The tool an identity (`Name`, `email`) belongs to, and the model its name carries.
    pub fn identify(&self, name: &str, email: &str) -> Option<(&str, Option<String>)> {
        let (lname, lemail) = (name.to_lowercase(), email.to_lowercase());
        for (t, i) in self.index.candidates(&lname, &lemail) {
            let tool = &self.tools[t as usize];
            let p = &tool.identities[i as usize];
            let name_ok = p.name.as_deref().is_none_or(|g| wildcard(g, &lname));
            let email_ok = p.email.as_deref().is_none_or(|g| wildcard(g, &lemail));
            if name_ok && email_ok && (p.name.is_some() || p.email.is_some()) {
                let model = match p.model {
                    Some(ModelFrom::Name) => {
                        let generic = p
                            .generic
                            .iter()
                            .any(|g| g.eq_ignore_ascii_case(name.trim()));
                        let looks_like_one = p.models.is_empty()
                            || p.models.iter().any(|m| wildcard(m, lname.trim()));
                        (!generic && looks_like_one && !name.trim().is_empty())
                            .then(|| name.trim().to_string())
                    }
                    Some(ModelFrom::Parens) => parens(name),
                    None => None,
                };
                return Some((&tool.id, model));
            }
        }
        None
    }

    /// A free-text tool name ("Claude Code", "GitHub Copilot v2") resolved to a
    /// tool id, with what follows the name (often the model).
    pub(crate) fn by_name<'t>(&self, text: &'t str) -> Option<(&str, &'t str)> {
        let lower = text.to_lowercase();
        let mut best: Option<(&str, usize)> = None;
        for tool in &self.tools {
            // Lower-cased when the table was built (`lower`).
            for n in &tool.names {
                let boundary = lower.strip_prefix(n.as_str()).is_some_and(|rest| {
                    rest.is_empty() || rest.starts_with([' ', '(', ',', '/', '@'])
                });
                if boundary && best.is_none_or(|(_, len)| n.len() > len) {
                    best = Some((&tool.id, n.len()));
                }
            }
        }
        // Names are ASCII, so the lowercase length is the original's.
        best.map(|(id, len)| (id, text.get(len..).unwrap_or("").trim()))
    }

    /// Whether `key` is one of the trailer keys of a class (case-insensitive).
    fn is(keys: &[String], key: &str) -> bool {
        keys.iter().any(|k| k.eq_ignore_ascii_case(key))
    }

    /// Read a commit's provenance. `review_keys` are the review trailers of the config.
    pub fn analyse(&self, facts: &CommitFacts<'_>, review_keys: &[String]) -> Provenance {
        let mut ai = AiBuilder::default();
        let keys = &self.trailers;
        let sources = facts
            .trailers
            .iter()
            .map(|t| (EvidenceSource::Trailer, t))
            .chain(facts.body_lines.iter().map(|t| (EvidenceSource::Body, t)));
        for (source, t) in sources {
            let ev = || Evidence {
                source,
                key: t.key.clone(),
                value: t.value.clone(),
            };
            let key = t.key.as_str();
            if Self::is(&keys.coauthor, key) {
                let (name, email) = split_identity(&t.value);
                if let Some((tool, model)) = self.identify(name, email) {
                    ai.add(tool, model, None, ev());
                }
            } else if Self::is(&keys.assisted, key) {
                let (tool, model) = self.parse_assisted(&t.value);
                if !tool.is_empty() {
                    ai.add(&tool, model, None, ev());
                }
            } else if Self::is(&keys.codeveloped, key) {
                let (name, email) = split_identity(&t.value);
                if let Some((tool, model)) = self.identify(name, email) {
                    ai.add(tool, model, None, ev());
                } else if let Some((tool, rest)) = self.by_name(name) {
                    ai.add(tool, model_text(rest), None, ev());
                }
            } else if Self::is(&keys.declaration, key) {
                match t.value.trim().to_lowercase().as_str() {
                    "yes" | "true" => ai.declare(Declared::Yes),
                    "no" | "false" => ai.declare(Declared::No),
                    _ => {}
                }
            } else if Self::is(&keys.human, key) {
                ai.declare(Declared::No);
            } else if Self::is(&keys.tool, key) {
                let tool = self.tool_id(&t.value);
                if !tool.is_empty() {
                    ai.explicit_tool.get_or_insert(tool.clone());
                    ai.add(&tool, None, None, ev());
                }
            } else if Self::is(&keys.model, key) {
                ai.explicit_model.get_or_insert((t.value.clone(), ev()));
            } else if Self::is(&keys.session, key) {
                ai.explicit_session.get_or_insert((t.value.clone(), ev()));
            } else if Self::is(&keys.signature, key) {
                if let Some(model) = signature_model(&t.value) {
                    ai.explicit_model.get_or_insert((model, ev()));
                }
            } else {
                for tool in &self.tools {
                    if Self::is(&tool.sessions, key) {
                        ai.add(&tool.id, None, Some(t.value.clone()), ev());
                    }
                    if tool.markers.iter().any(|m| {
                        m.key.eq_ignore_ascii_case(key)
                            && m.value.eq_ignore_ascii_case(t.value.trim())
                    }) {
                        ai.add(&tool.id, None, None, ev());
                    }
                }
            }
        }
        for (source, (name, email)) in [
            (EvidenceSource::Author, facts.author),
            (EvidenceSource::Committer, facts.committer),
        ] {
            if let Some((tool, model)) = self.identify(name, email) {
                let value = format!("{name} <{email}>");
                ai.add(
                    tool,
                    model,
                    None,
                    Evidence {
                        source,
                        key: source.as_str().to_string(),
                        value,
                    },
                );
            }
        }
        for tool in &self.tools {
            if let Some(prefix) = tool
                .subjects
                .iter()
                .find(|p| facts.subject.starts_with(p.as_str()))
            {
                ai.add(
                    &tool.id,
                    None,
                    None,
                    Evidence {
                        source: EvidenceSource::Subject,
                        key: "subject".into(),
                        value: prefix.trim().to_string(),
                    },
                );
            }
            for line in facts.body.lines() {
                let line = line.trim();
                if tool.body.iter().any(|b| line.starts_with(b.as_str())) {
                    ai.add(
                        &tool.id,
                        None,
                        None,
                        Evidence {
                            source: EvidenceSource::Body,
                            key: "body".into(),
                            value: line.to_string(),
                        },
                    );
                }
            }
        }
        let people = |wanted: &dyn Fn(&str) -> bool| -> Vec<Identity> {
            facts
                .trailers
                .iter()
                .filter(|t| wanted(&t.key))
                .map(|t| {
                    let (name, email) = split_identity(&t.value);
                    let tool = self
                        .identify(name, email)
                        .map(|(id, _)| id.to_string())
                        .or_else(|| {
                            self.by_name(name)
                                .filter(|(_, rest)| rest.is_empty())
                                .map(|(id, _)| id.to_string())
                        });
                    Identity {
                        key: t.key.clone(),
                        name: name.to_string(),
                        email: email.to_string(),
                        tool,
                    }
                })
                .collect()
        };
        let reviews = people(&|k| Self::is(review_keys, k));
        let signoffs = people(&|k| Self::is(&keys.signoff, k));
        Provenance {
            ai: ai.finish(),
            reviews,
            signoffs,
        }
    }

    /// `Assisted-by` / `Generated-by` values: the kernel's `AGENT:MODEL [TOOL...]`,
    /// `Name <email>`, or free text naming a tool.
    fn parse_assisted(&self, value: &str) -> (String, Option<String>) {
        let value = value.trim();
        if value.contains('<') && value.ends_with('>') {
            let (name, email) = split_identity(value);
            if let Some((tool, model)) = self.identify(name, email) {
                return (tool.to_string(), model);
            }
            return self.free_text(name);
        }
        let first = value.split_whitespace().next().unwrap_or("");
        if let Some((agent, model)) = first.split_once(':') {
            let is_agent = !agent.is_empty()
                && agent
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
            if is_agent && !model.is_empty() && !model.starts_with("//") {
                return (self.tool_id(agent), Some(model.to_string()));
            }
        }
        self.free_text(value)
    }

    fn free_text(&self, text: &str) -> (String, Option<String>) {
        match self.by_name(text) {
            Some((tool, rest)) => (tool.to_string(), model_text(rest)),
            None => (slug(text), None),
        }
    }

    /// A tool named in a trailer, as a tool id: a known name, else its slug.
    fn tool_id(&self, text: &str) -> String {
        match self.by_name(text.trim()) {
            Some((tool, "")) => tool.to_string(),
            _ => slug(text),
        }
    }
}

#[derive(Default)]
struct AiBuilder {
    tools: Vec<Tool>,
    declared: Option<Declared>,
    explicit_tool: Option<String>,
    explicit_model: Option<(String, Evidence)>,
    explicit_session: Option<(String, Evidence)>,
}

impl AiBuilder {
    fn add(
        &mut self,
        tool: &str,
        model: Option<String>,
        session: Option<String>,
        evidence: Evidence,
    ) {
        let entry = if let Some(i) = self.tools.iter().position(|t| t.tool == tool) {
            &mut self.tools[i]
        } else {
            self.tools.push(Tool {
                tool: tool.to_string(),
                model: None,
                models: Vec::new(),
                session: None,
                evidence: Vec::new(),
            });
            self.tools.last_mut().expect("just pushed")
        };
        if let Some(m) = &model {
            if !entry.models.contains(m) {
                entry.models.push(m.clone());
            }
        }
        if entry.model.is_none() {
            entry.model = model;
        }
        if entry.session.is_none() {
            entry.session = session;
        }
        if !entry.evidence.contains(&evidence) {
            entry.evidence.push(evidence);
        }
    }

    fn declare(&mut self, answer: Declared) {
        self.declared.get_or_insert(answer);
    }

    /// `AI-Model:` and `AI-Session:` belong to the tool named by `AI-Tool:`, else
    /// to every tool that lacks them; alone, they still say AI was used.
    fn finish(mut self) -> Ai {
        for (value, field) in [
            (self.explicit_model.take(), 0),
            (self.explicit_session.take(), 1),
        ] {
            let Some((value, evidence)) = value else {
                continue;
            };
            if self.tools.is_empty() {
                self.add("unknown", None, None, evidence.clone());
            }
            let only = self.explicit_tool.clone();
            for t in &mut self.tools {
                if only.as_ref().is_some_and(|o| *o != t.tool) {
                    continue;
                }
                let slot = if field == 0 {
                    &mut t.model
                } else {
                    &mut t.session
                };
                if slot.is_none() {
                    *slot = Some(value.clone());
                    if field == 0 {
                        t.models.insert(0, value.clone());
                    }
                    t.evidence.push(evidence.clone());
                }
            }
        }
        // A tool seen only as the committer made the commit object, not
        // necessarily its content: recorded apart, not judged.
        let (committed_by, tools): (Vec<Tool>, Vec<Tool>) = self.tools.into_iter().partition(|t| {
            t.evidence
                .iter()
                .all(|e| e.source == EvidenceSource::Committer)
        });
        Ai {
            assisted: !tools.is_empty() || self.declared == Some(Declared::Yes),
            declared: self.declared,
            tools,
            committed_by,
            lines: None,
        }
    }
}

/// Matching is case-insensitive: lower-case the patterns once, on loading.
fn lower(tools: &mut [ToolEntry]) {
    for tool in tools {
        for p in &mut tool.identities {
            p.name = p.name.as_ref().map(|n| n.to_lowercase());
            p.email = p.email.as_ref().map(|e| e.to_lowercase());
            for m in &mut p.models {
                *m = m.to_lowercase();
            }
        }
        for n in &mut tool.names {
            *n = n.to_lowercase();
        }
    }
}

/// The model of an `Agent-Signature:` value: `MODEL on behalf of NAME`, or
/// a folded block holding `model: MODEL` (up to the next `key:`).
fn signature_model(value: &str) -> Option<String> {
    let value = value.trim();
    if let Some((model, _)) = value.split_once(" on behalf of ") {
        let model = model.trim();
        return (!model.is_empty()).then(|| model.to_string());
    }
    let lower = value.to_lowercase();
    let at = lower
        .match_indices("model:")
        .find(|(i, _)| *i == 0 || value.as_bytes()[i - 1] == b' ')
        .map(|(i, _)| i + "model:".len())?;
    let mut words = Vec::new();
    for w in value[at..].split_whitespace() {
        if w.ends_with(':') {
            break;
        }
        words.push(w);
    }
    (!words.is_empty()).then(|| words.join(" "))
}

/// `Name <email>` into its parts; a value without `<...>` is all name.
pub fn split_identity(value: &str) -> (&str, &str) {
    let value = value.trim();
    match (value.rfind('<'), value.ends_with('>')) {
        (Some(open), true) => (
            value[..open].trim(),
            value[open + 1..value.len() - 1].trim(),
        ),
        _ => (value, ""),
    }
}

fn parens(name: &str) -> Option<String> {
    let open = name.rfind('(')?;
    let close = name[open..].find(')')? + open;
    let inner = name[open + 1..close].trim();
    (!inner.is_empty()).then(|| inner.to_string())
}

fn model_text(rest: &str) -> Option<String> {
    let rest = rest.trim().trim_start_matches([',', '/', '@']).trim();
    let rest = rest
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .unwrap_or(rest)
        .trim();
    (!rest.is_empty()).then(|| rest.to_string())
}

/// Tool ids are lower-case, with runs of white space as `-`.
fn slug(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join("-")
        .to_lowercase()
}

/// A match where `*` stands for any run of characters and everything else is
/// literal (bot names hold `[` and `]`). Callers lower-case both sides.
fn wildcard(pattern: &str, text: &str) -> bool {
    let p = pattern.as_bytes();
    let t = text.as_bytes();
    // The table's shapes, without backtracking: exact, `*+app[bot]@...`
    // (a bot's noreply address), `name*`.
    match (
        p.iter().position(|c| *c == b'*'),
        p.iter().rposition(|c| *c == b'*'),
    ) {
        (None, _) => return p == t,
        (Some(0), Some(0)) => return t.ends_with(&p[1..]),
        (Some(first), Some(last)) if first == p.len() - 1 && last == first => {
            return t.starts_with(&p[..first]);
        }
        _ => {}
    }
    backtracking(p, t)
}

/// The general match, any number of stars.
fn backtracking(p: &[u8], t: &[u8]) -> bool {
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && p[pi] != b'*' && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table the build converted to JSON is the table its YAML says: a
    /// scalar that YAML would type otherwise (`yes`, `1.0`) fails here.
    #[test]
    fn the_builtin_table_reads_as_its_yaml() {
        let yaml = include_str!("../rules/ai/identities.yaml");
        let direct: TableFile = serde_saphyr::from_str(yaml).unwrap();
        let built: TableFile = serde_json::from_str(BUILTIN_TABLE).unwrap();
        assert_eq!(format!("{direct:?}"), format!("{built:?}"));
        assert!(!direct.tools.is_empty());
    }

    fn trailer(k: &str, v: &str) -> Trailer {
        Trailer {
            key: k.into(),
            value: v.into(),
        }
    }

    fn analyse(
        trailers: &[Trailer],
        author: (&str, &str),
        subject: &str,
        body: &str,
    ) -> Provenance {
        let table = IdentityTable::builtin();
        let facts = CommitFacts {
            subject,
            body,
            author,
            committer: author,
            trailers,
            body_lines: &[],
        };
        table.analyse(&facts, &["Reviewed-by".to_string()])
    }

    const HUMAN: (&str, &str) = ("Ada", "ada@example.com");

    #[test]
    fn claude_co_author_name_is_the_model() {
        let p = analyse(
            &[trailer(
                "Co-Authored-By",
                "Claude Opus 4.6 (1M context) <noreply@anthropic.com>",
            )],
            HUMAN,
            "s",
            "",
        );
        assert!(p.ai.assisted);
        assert_eq!(p.ai.tools[0].tool, "claude-code");
        assert_eq!(
            p.ai.tools[0].model.as_deref(),
            Some("Claude Opus 4.6 (1M context)")
        );
        let plain = analyse(
            &[trailer("Co-Authored-By", "Claude <noreply@anthropic.com>")],
            HUMAN,
            "s",
            "",
        );
        assert_eq!(plain.ai.tools[0].model, None);
    }

    #[test]
    fn kernel_assisted_by_gives_tool_and_model() {
        let p = analyse(
            &[trailer(
                "Assisted-by",
                "Claude:claude-3-opus coccinelle sparse",
            )],
            HUMAN,
            "s",
            "",
        );
        assert_eq!(p.ai.tools[0].tool, "claude-code");
        assert_eq!(p.ai.tools[0].model.as_deref(), Some("claude-3-opus"));
    }

    #[test]
    fn co_author_and_kernel_trailer_name_one_tool() {
        // What Claude Code writes, plus the kernel's form added by hand: one
        // tool that records its model, not two tools of which one lacks it.
        let p = analyse(
            &[
                trailer("Co-Authored-By", "Claude <noreply@anthropic.com>"),
                trailer("Assisted-by", "Claude:claude-opus-4"),
            ],
            HUMAN,
            "s",
            "",
        );
        assert_eq!(p.ai.tools.len(), 1, "{:?}", p.ai.tools);
        assert_eq!(p.ai.tools[0].tool, "claude-code");
        assert_eq!(p.ai.tools[0].model.as_deref(), Some("claude-opus-4"));
    }

    #[test]
    fn free_text_and_bots() {
        let p = analyse(&[trailer("Generated-by", "ChatGPT 5")], HUMAN, "s", "");
        assert_eq!(p.ai.tools[0].tool, "chatgpt-5");
        let bot = analyse(
            &[],
            (
                "copilot-swe-agent[bot]",
                "1+Copilot@users.noreply.github.com",
            ),
            "s",
            "",
        );
        assert_eq!(bot.ai.tools[0].tool, "copilot");
        assert_eq!(bot.ai.tools[0].evidence[0].source, EvidenceSource::Author);
        let aider = analyse(&[], ("Paul (aider)", "p@x"), "aider: fix it", "");
        assert_eq!(aider.ai.tools[0].tool, "aider");
        assert_eq!(
            aider.ai.tools[0].evidence.len(),
            3,
            "author, committer and subject"
        );
        let aider_model = analyse(
            &[trailer(
                "Co-authored-by",
                "aider (gpt-4o) <aider@aider.chat>",
            )],
            HUMAN,
            "s",
            "",
        );
        assert_eq!(aider_model.ai.tools[0].model.as_deref(), Some("gpt-4o"));
    }

    #[test]
    fn body_line_and_session() {
        let p = analyse(
            &[trailer("Claude-Session", "abc")],
            HUMAN,
            "s",
            "did it\n\n🤖 Generated with [Claude Code](https://claude.com/claude-code)\n",
        );
        assert_eq!(p.ai.tools.len(), 1);
        assert_eq!(p.ai.tools[0].session.as_deref(), Some("abc"));
    }

    #[test]
    fn explicit_fields_and_declarations() {
        let p = analyse(
            &[
                trailer("AI-Tool", "Cursor"),
                trailer("AI-Model", "gpt-5"),
                trailer("AI-Session", "s1"),
            ],
            HUMAN,
            "s",
            "",
        );
        assert_eq!(p.ai.tools[0].tool, "cursor");
        assert_eq!(p.ai.tools[0].model.as_deref(), Some("gpt-5"));
        assert_eq!(p.ai.tools[0].session.as_deref(), Some("s1"));
        let no = analyse(&[trailer("AI-Assisted", "no")], HUMAN, "s", "");
        assert!(!no.ai.assisted);
        assert_eq!(no.ai.declared, Some(Declared::No));
        let yes = analyse(&[trailer("AI-Assisted", "true")], HUMAN, "s", "");
        assert!(yes.ai.assisted && yes.ai.tools.is_empty());
        let human = analyse(&[trailer("Authored-by", "Ada <ada@x>")], HUMAN, "s", "");
        assert_eq!(human.ai.declared, Some(Declared::No));
    }

    #[test]
    fn humans_are_not_tools() {
        let p = analyse(
            &[
                trailer("Co-authored-by", "Bob <bob@example.com>"),
                trailer("Co-developed-by", "Carol <carol@example.com>"),
                trailer("Signed-off-by", "Claude <noreply@anthropic.com>"),
                trailer("Reviewed-by", "Dan <dan@example.com>"),
            ],
            HUMAN,
            "s",
            "",
        );
        assert!(p.ai.tools.is_empty());
        assert_eq!(p.signoffs[0].tool.as_deref(), Some("claude-code"));
        assert_eq!(p.reviews[0].tool, None);
    }

    /// `identify` as a plain scan of the table in order: what the index
    /// must agree with.
    fn identify_scanning(table: &IdentityTable, name: &str, email: &str) -> Option<String> {
        let (lname, lemail) = (name.to_lowercase(), email.to_lowercase());
        table.tools.iter().find_map(|tool| {
            tool.identities
                .iter()
                .any(|p| {
                    p.name.as_deref().is_none_or(|g| wildcard(g, &lname))
                        && p.email.as_deref().is_none_or(|g| wildcard(g, &lemail))
                        && (p.name.is_some() || p.email.is_some())
                })
                .then(|| tool.id.clone())
        })
    }

    /// The index finds the first matching pattern in table order, as the
    /// scan does: for every identity the table names, in other cases, with
    /// wildcards filled in, and with a team's tools ahead of the built-in
    /// ones whose patterns overlap them.
    #[test]
    fn the_identity_index_agrees_with_a_scan_of_the_table() {
        let ext: TableExtension = serde_saphyr::from_str(
            "tools:\n  - id: team-bot\n    identities:\n      - {name: 'Claude', email: '*@corp.example'}\n      - {email: 'noreply@anthropic.com'}\n      - {name: 'Mixed*Bot'}\n  - id: nothing\n    identities:\n      - {model: name}\n",
        )
        .unwrap();
        let builtin = IdentityTable::builtin();
        let extended = builtin.extended(&ext);
        let fill = |g: &str| g.replace('*', "x1");
        let mut texts: Vec<String> = vec![String::new(), "someone".into(), "a@b.c".into()];
        for tool in &extended.tools {
            for p in &tool.identities {
                for g in p.name.iter().chain(&p.email) {
                    texts.push(fill(g));
                    texts.push(fill(g).to_uppercase());
                    texts.push(format!("{} ", fill(g)));
                }
            }
        }
        let mut checked = 0;
        for table in [&builtin, &extended] {
            for name in &texts {
                for email in &texts {
                    assert_eq!(
                        table.identify(name, email).map(|(t, _)| t.to_string()),
                        identify_scanning(table, name, email),
                        "{name:?} <{email}>"
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 10_000, "{checked}");
        assert_eq!(
            extended
                .identify("Claude", "noreply@anthropic.com")
                .unwrap()
                .0,
            "team-bot",
            "a team's pattern comes first"
        );
        assert_eq!(
            builtin
                .identify("Claude", "noreply@anthropic.com")
                .unwrap()
                .0,
            "claude-code"
        );
    }

    #[test]
    fn wildcard_is_literal_but_for_star() {
        assert!(wildcard("copilot-swe-agent[bot]", "copilot-swe-agent[bot]"));
        assert!(!wildcard("copilot-swe-agent[bot]", "copilot-swe-agentb"));
        assert!(wildcard(
            "*+copilot@users.noreply.github.com",
            "123+copilot@users.noreply.github.com"
        ));
        assert!(wildcard("* (aider)", "paul gauthier (aider)"));
        assert!(!wildcard("* (aider)", "aider"));
        let table = IdentityTable::builtin();
        assert!(
            table.identify("Copilot-SWE-Agent[bot]", "").is_some(),
            "matching ignores case"
        );
    }

    /// The shortcuts for one leading or one trailing star answer as the
    /// general match does.
    #[test]
    fn wildcard_shortcuts_agree_with_the_general_match() {
        let parts = ["", "*", "a", "ab", "b*", "*a", "a*b", "**", "*ab*", "ba"];
        let mut checked = 0;
        for p1 in parts {
            for p2 in parts {
                let pattern = format!("{p1}{p2}");
                for text in ["", "a", "b", "ab", "ba", "aab", "abb", "abab", "bab", "*"] {
                    assert_eq!(
                        wildcard(&pattern, text),
                        backtracking(pattern.as_bytes(), text.as_bytes()),
                        "{pattern:?} on {text:?}"
                    );
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 1000);
        assert!(wildcard("gemini-cli*", "gemini-cli"));
        assert!(!wildcard("*x", ""));
    }
}
