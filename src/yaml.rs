//! A YAML (and so JSON) loader that keeps the line and column of every node,
//! built on saphyr-parser's event stream so that hostile input stays bounded:
//! alias expansion has a budget, nesting has a depth limit, duplicate keys are
//! errors (a second `labels:` must not hide the first from the gate).
//!
//! Every step is linear in the input: an anchored node is shared (an `Arc`),
//! never copied, so that anchors nested in anchors cost nothing extra; each
//! node knows its expanded size, so an alias is charged in constant time; a
//! large mapping checks its keys through a hash index.
//!
//! Scalars resolve as Kubernetes reads them, not as YAML 1.2 says: kubectl,
//! Argo CD and Flux decode manifests with sigs.k8s.io/yaml, which is go-yaml
//! v2 (YAML 1.1 rules: `yes`/`on`/`y` are booleans, `010` is octal, `1_000`
//! is an integer, a `!!bool "true"` is a boolean, and a `<<` merge applies in
//! document order). Where the gate read YAML 1.2 it judged a value other than
//! the one the cluster gets. What cannot be mirrored faithfully (a NaN, a
//! float key, `!!binary`, a key set both explicitly and by a later merge) is
//! a load error, so the file is reported as one that cannot be judged.

use saphyr_parser::{Event, Marker, Parser, ScalarStyle};
use serde_json::{Map, Number, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// Nesting deeper than this is refused: no real manifest comes close, and the
/// tree is walked recursively afterwards.
pub const MAX_DEPTH: usize = 256;

/// A position in a source file: 1-based line, 1-based column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

/// A YAML node with the position where it starts.
#[derive(Debug, Clone)]
pub struct Node {
    pub pos: Pos,
    pub kind: NodeKind,
    /// Nodes in this subtree with aliases expanded (saturating): what
    /// converting it to JSON produces, and what one alias to it costs.
    size: usize,
}

/// Children are shared: an anchored node and every alias to it are one node.
#[derive(Debug, Clone)]
pub enum NodeKind {
    Scalar(Value),
    Seq(Vec<Arc<Node>>),
    /// Entries keep their key's text and the key's position, in source order.
    Map(Vec<(String, Pos, Arc<Node>)>),
}

/// A mapping this large checks its keys through a hash index: a linear scan
/// per key made an 80,000-key JSON object take 44 seconds.
const INDEX_FROM: usize = 16;

/// Alias expansion over a whole file is bounded by this many times the
/// per-document budget: otherwise `max_documents` documents could each
/// expand to the full budget.
pub const FILE_EXPANSION_FACTOR: usize = 4;

/// Bounds for one file. Its own type, so that this module depends on no
/// stage: the manifest loader derives it from the run's `limits` config.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_documents: usize,
    pub max_alias_expansion: usize,
}

/// A loading failure, with the place it was noticed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    pub pos: Pos,
    pub message: String,
}

/// One document of a stream: its index in the stream and its root node.
#[derive(Debug)]
pub struct Document {
    pub index: usize,
    pub root: Node,
}

/// Lines as git, editors and GitHub count them: ended by `\n`. YAML also
/// ends a line at a lone `\r`, so in a file that has one the parser's line
/// numbers run ahead of everyone else's; there positions are recomputed from
/// the character index (a rare, old-Mac or hostile file: normal files pay
/// nothing).
struct Lines {
    /// Character indices of every `\n` of the file, when the text has a
    /// lone `\r` or the parser reads a rewritten text (`join_surrogates`).
    newlines: Option<Vec<usize>>,
    /// Where the parsed text is shorter than the file: (a character index
    /// of the parsed text, how many characters fewer it has from there on).
    shifts: Vec<(usize, usize)>,
}

impl Lines {
    /// Positions in `text`, as the parser reads it after `shifts`.
    fn new(text: &str, shifts: Vec<(usize, usize)>) -> Lines {
        let bytes = text.as_bytes();
        let lone_cr = bytes
            .iter()
            .enumerate()
            .any(|(i, b)| *b == b'\r' && bytes.get(i + 1) != Some(&b'\n'));
        Lines {
            newlines: (lone_cr || !shifts.is_empty()).then(|| {
                text.chars()
                    .enumerate()
                    .filter(|(_, c)| *c == '\n')
                    .map(|(i, _)| i)
                    .collect()
            }),
            shifts,
        }
    }

    fn pos(&self, marker: &Marker) -> Pos {
        match &self.newlines {
            None => Pos {
                line: marker.line() as u32,
                column: marker.col() as u32 + 1,
            },
            Some(newlines) => {
                // The file's own index of what the parser read at `marker`.
                let shifted = self.shifts.partition_point(|(at, _)| *at <= marker.index());
                let index = marker.index() + shifted.checked_sub(1).map_or(0, |i| self.shifts[i].1);
                let before = newlines.partition_point(|nl| *nl < index);
                let line_start = if before == 0 {
                    0
                } else {
                    newlines[before - 1] + 1
                };
                Pos {
                    line: before as u32 + 1,
                    column: (index - line_start) as u32 + 1,
                }
            }
        }
    }
}

enum Frame {
    Seq {
        pos: Pos,
        anchor: usize,
        items: Vec<Arc<Node>>,
    },
    Map {
        pos: Pos,
        anchor: usize,
        /// The pending key: its text, position, and whether it is a merge
        /// key (`<<` plain or tagged `!!merge`, not an alias to one).
        key: Option<(String, Pos, bool)>,
        entries: Entries,
    },
}

/// A mapping being built: its entries, which of them came from a merge key
/// (an explicit key may override those, and only those), and a key index
/// once it is large.
#[derive(Default)]
struct Entries {
    list: Vec<(String, Pos, Arc<Node>)>,
    merged: Vec<bool>,
    /// Whether a `<<` was seen: a second one is a duplicate key.
    merge_key: Option<Pos>,
    index: Option<HashMap<String, usize>>,
}

impl Entries {
    fn find(&self, key: &str) -> Option<usize> {
        match &self.index {
            Some(index) => index.get(key).copied(),
            None => self.list.iter().position(|(k, _, _)| k == key),
        }
    }

    fn push(&mut self, key: String, pos: Pos, node: Arc<Node>, merged: bool) {
        if let Some(index) = &mut self.index {
            index.insert(key.clone(), self.list.len());
        }
        self.list.push((key, pos, node));
        self.merged.push(merged);
        if self.index.is_none() && self.list.len() >= INDEX_FROM {
            self.index = Some(
                self.list
                    .iter()
                    .enumerate()
                    .map(|(i, (k, _, _))| (k.clone(), i))
                    .collect(),
            );
        }
    }

    /// An explicit `key: value`: a duplicate of an explicit key is an error;
    /// one that was merged in is overridden (explicit keys win).
    fn explicit(&mut self, key: String, pos: Pos, node: Arc<Node>) -> Result<(), LoadError> {
        match self.find(&key) {
            Some(i) if self.merged[i] => {
                self.list[i] = (key, pos, node);
                self.merged[i] = false;
            }
            Some(i) => {
                return Err(LoadError {
                    pos,
                    message: format!(
                        "duplicate key {key:?} (first at line {}): which one counts is ambiguous",
                        self.list[i].1.line
                    ),
                })
            }
            None => self.push(key, pos, node, false),
        }
        Ok(())
    }
}

/// How plain scalars and keys resolve.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Schema {
    /// As Kubernetes tools read manifests: go-yaml v2 ([`resolve_scalar`]).
    Kubernetes,
    /// YAML 1.2 core ([`resolve_core`]): govops' config file.
    Core,
}

/// Load every document of a manifest file as Kubernetes reads it (go-yaml
/// v2, YAML 1.1 scalars). Empty documents are dropped; indices stay those of
/// the stream so that `doc` numbers match what a reader counts.
pub fn load(text: &str, limits: Limits) -> Result<Vec<Document>, LoadError> {
    load_with(text, limits, Schema::Kubernetes)
}

/// Load a YAML 1.2 file, such as govops' own config file, with the same
/// bounds and positions as [`load`] but core-schema scalars: it is read by a
/// YAML 1.2 parser (serde-saphyr), not by Kubernetes.
pub fn load_core(text: &str, limits: Limits) -> Result<Vec<Document>, LoadError> {
    load_with(text, limits, Schema::Core)
}

/// A JSON document's UTF-16 surrogate pairs (`\ud83d\ude00`, as Python's
/// `json.dumps` writes any character past U+FFFF) rewritten as the YAML
/// escape of the same character (`\U0001F600`), and a lone surrogate as
/// U+FFFD, which is what kubectl's JSON decoder reads; YAML itself has no
/// surrogate escapes, so the parser refused the file. Only a text that
/// kubectl decodes as JSON (its first character, past whitespace, is `{`)
/// is rewritten: a YAML file with one is refused by kubectl too. Returns the
/// text and where it became shorter (`Lines::shifts`), or None when nothing
/// changed.
fn join_surrogates(text: &str) -> Option<(String, Vec<(usize, usize)>)> {
    if !text.trim_start().starts_with('{') {
        return None;
    }
    // Every byte that matters is ASCII, which UTF-8 never uses inside
    // another character: the scan is over bytes, counting characters.
    let bytes = text.as_bytes();
    let hex4 = |at: usize| -> Option<u32> {
        let digits = bytes.get(at..at + 4)?;
        digits.iter().all(u8::is_ascii_hexdigit).then(|| {
            digits
                .iter()
                .fold(0, |n, d| n * 16 + (*d as char).to_digit(16).unwrap_or(0))
        })
    };
    // The code unit of a `\uXXXX` escape starting at `at`, if a surrogate.
    let surrogate = |at: usize| -> Option<u32> {
        (bytes.get(at..at + 2) == Some(b"\\u"))
            .then(|| hex4(at + 2))
            .flatten()
            .filter(|u| (0xD800..=0xDFFF).contains(u))
    };
    // Most JSON has none: nothing is copied for it.
    if !text
        .match_indices("\\u")
        .any(|(at, _)| surrogate(at).is_some())
    {
        return None;
    }
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
    let (mut shifts, mut removed, mut chars) = (Vec::new(), 0, 0);
    let (mut i, mut in_string) = (0, false);
    while i < bytes.len() {
        let b = bytes[i];
        if !in_string || b != b'\\' {
            if b == b'"' {
                in_string = !in_string;
            }
            out.push(b);
            chars += usize::from(b & 0xC0 != 0x80);
            i += 1;
            continue;
        }
        match (surrogate(i), surrogate(i + 6)) {
            (Some(high @ 0xD800..=0xDBFF), Some(low @ 0xDC00..=0xDFFF)) => {
                let point = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
                out.extend(format!("\\U{point:08X}").bytes());
                i += 12;
                chars += 10;
                removed += 2;
                shifts.push((chars, removed));
            }
            (Some(_), _) => {
                out.extend(b"\\uFFFD");
                i += 6;
                chars += 6;
            }
            _ => {
                // Any other escape, kept whole (so `\\` never starts one).
                let end = (i + 2).min(bytes.len());
                out.extend(&bytes[i..end]);
                chars += bytes[i..end].iter().filter(|b| **b & 0xC0 != 0x80).count();
                i = end;
            }
        }
    }
    Some((String::from_utf8(out).ok()?, shifts))
}

fn load_with(text: &str, limits: Limits, schema: Schema) -> Result<Vec<Document>, LoadError> {
    let (parsed, shifts) = match join_surrogates(text) {
        Some((rewritten, shifts)) => (std::borrow::Cow::Owned(rewritten), shifts),
        None => (std::borrow::Cow::Borrowed(text), Vec::new()),
    };
    let lines = Lines::new(text, shifts);
    let mut parser = Parser::new_from_str(&parsed);
    let mut docs = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, Arc<Node>> = HashMap::new();
    let mut expanded = 0usize;
    let mut file_expanded = 0usize;
    let file_budget = limits
        .max_alias_expansion
        .saturating_mul(FILE_EXPANSION_FACTOR);
    let mut doc_index = 0usize;
    let mut root: Option<Arc<Node>> = None;
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|e| LoadError {
            pos: lines.pos(e.marker()),
            message: e.info().to_string(),
        })?;
        let pos = lines.pos(&span.start);
        let mut merge_key = false;
        let node = match event {
            Event::DocumentStart(_) => {
                if doc_index >= limits.max_documents {
                    return Err(LoadError {
                        pos,
                        message: format!(
                            "more than {} documents in one file (limits.max_documents)",
                            limits.max_documents
                        ),
                    });
                }
                anchors.clear();
                expanded = 0;
                continue;
            }
            Event::DocumentEnd => {
                if let Some(root) = root.take() {
                    if !matches!(&root.kind, NodeKind::Scalar(Value::Null)) {
                        docs.push(Document {
                            index: doc_index,
                            // A shallow copy at most: the children stay shared.
                            root: Arc::unwrap_or_clone(root),
                        });
                    }
                }
                doc_index += 1;
                continue;
            }
            Event::SequenceStart(anchor, _) => {
                check_depth(&stack, pos)?;
                stack.push(Frame::Seq {
                    pos,
                    anchor,
                    items: Vec::new(),
                });
                continue;
            }
            Event::MappingStart(anchor, _) => {
                check_depth(&stack, pos)?;
                stack.push(Frame::Map {
                    pos,
                    anchor,
                    key: None,
                    entries: Entries::default(),
                });
                continue;
            }
            Event::SequenceEnd => match stack.pop() {
                Some(Frame::Seq { pos, anchor, items }) => {
                    let size = items
                        .iter()
                        .fold(1usize, |n, item| n.saturating_add(item.size));
                    remember(
                        &mut anchors,
                        anchor,
                        Arc::new(Node {
                            pos,
                            kind: NodeKind::Seq(items),
                            size,
                        }),
                    )
                }
                _ => return Err(internal(pos)),
            },
            Event::MappingEnd => match stack.pop() {
                Some(Frame::Map {
                    pos,
                    anchor,
                    entries,
                    ..
                }) => {
                    let size = entries
                        .list
                        .iter()
                        .fold(1usize, |n, (_, _, v)| n.saturating_add(1 + v.size));
                    remember(
                        &mut anchors,
                        anchor,
                        Arc::new(Node {
                            pos,
                            kind: NodeKind::Map(entries.list),
                            size,
                        }),
                    )
                }
                _ => return Err(internal(pos)),
            },
            Event::Scalar(value, style, anchor, tag) => {
                // The full tag: `!!bool` is `tag:yaml.org,2002:bool` (or what
                // a %TAG directive made of `!!`), `!foo` is `!foo`.
                let tag = tag.map(|t| format!("{}{}", t.handle, t.suffix));
                merge_key = is_merge_key(&value, style, tag.as_deref());
                let resolved = match schema {
                    Schema::Kubernetes => resolve_scalar(&value, style, tag.as_deref())
                        .map_err(|message| LoadError { pos, message })?,
                    Schema::Core => resolve_core(
                        &value,
                        style,
                        tag.as_deref().and_then(|t| t.strip_prefix(CORE)),
                    ),
                };
                let node = Node {
                    pos,
                    kind: NodeKind::Scalar(resolved),
                    size: 1,
                };
                remember(&mut anchors, anchor, Arc::new(node))
            }
            Event::Alias(id) => {
                let Some(node) = anchors.get(&id) else {
                    return Err(LoadError {
                        pos,
                        message: "alias to an unknown anchor".into(),
                    });
                };
                expanded = expanded.saturating_add(node.size);
                file_expanded = file_expanded.saturating_add(node.size);
                if expanded > limits.max_alias_expansion {
                    return Err(LoadError {
                        pos,
                        message: format!(
                            "aliases expand to more than {} nodes (limits.max_alias_expansion): an alias bomb?",
                            limits.max_alias_expansion
                        ),
                    });
                }
                if file_expanded > file_budget {
                    return Err(LoadError {
                        pos,
                        message: format!(
                            "aliases in this file expand to more than {file_budget} nodes ({FILE_EXPANSION_FACTOR} times limits.max_alias_expansion): an alias bomb?"
                        ),
                    });
                }
                Arc::clone(node)
            }
            Event::StreamStart | Event::StreamEnd | Event::Nothing => continue,
        };
        attach(&mut stack, &mut root, node, merge_key, schema)?;
    }
    Ok(docs)
}

fn internal(pos: Pos) -> LoadError {
    LoadError {
        pos,
        message: "unbalanced YAML events".into(),
    }
}

fn check_depth(stack: &[Frame], pos: Pos) -> Result<(), LoadError> {
    if stack.len() >= MAX_DEPTH {
        return Err(LoadError {
            pos,
            message: format!("nesting deeper than {MAX_DEPTH} levels"),
        });
    }
    Ok(())
}

/// Keep an anchored node for later aliases: the node itself, shared.
fn remember(anchors: &mut HashMap<usize, Arc<Node>>, anchor: usize, node: Arc<Node>) -> Arc<Node> {
    if anchor != 0 {
        anchors.insert(anchor, Arc::clone(&node));
    }
    node
}

/// Put a finished node into its parent (or make it the document root).
/// `merge_key`: the node is a `<<` that go-yaml treats as a merge key.
fn attach(
    stack: &mut [Frame],
    root: &mut Option<Arc<Node>>,
    node: Arc<Node>,
    merge_key: bool,
    schema: Schema,
) -> Result<(), LoadError> {
    match stack.last_mut() {
        None => *root = Some(node),
        Some(Frame::Seq { items, .. }) => items.push(node),
        Some(Frame::Map { entries, key, .. }) => match key.take() {
            None => {
                let text = match &node.kind {
                    NodeKind::Scalar(Value::String(s)) => s.clone(),
                    NodeKind::Scalar(Value::Null) if schema == Schema::Core => "null".into(),
                    NodeKind::Scalar(v) if schema == Schema::Core => v.to_string(),
                    NodeKind::Scalar(v) => key_text(v).map_err(|message| LoadError {
                        pos: node.pos,
                        message,
                    })?,
                    _ => {
                        return Err(LoadError {
                            pos: node.pos,
                            message: "a mapping key must be a scalar".into(),
                        })
                    }
                };
                *key = Some((text, node.pos, merge_key));
            }
            Some((k, kpos, true)) => {
                if let Some(first) = entries.merge_key {
                    return Err(LoadError {
                        pos: kpos,
                        message: format!(
                            "duplicate merge key \"<<\" (first at line {}): list the mappings in one `<<: [*a, *b]`",
                            first.line
                        ),
                    });
                }
                debug_assert_eq!(k, "<<");
                entries.merge_key = Some(kpos);
                merge_into(entries, &node, kpos)?;
            }
            Some((k, kpos, false)) => entries.explicit(k, kpos, node)?,
        },
    }
    Ok(())
}

/// The JSON key sigs.k8s.io/yaml makes of a resolved YAML key
/// (`convertToJSONableObject` in its yaml.go): strings as they are, integers
/// in decimal, booleans as `true`/`false`. A null or an unsigned-only key is
/// refused there; a float key is printed with float32 precision
/// (`FormatFloat(k, 'g', -1, 32)`), which the gate does not mirror: refused.
fn key_text(value: &Value) -> Result<String, String> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) if n.is_i64() => Ok(n.to_string()),
        Value::Number(n) => Err(format!(
            "the mapping key {n} is a number Kubernetes' YAML reader renders differently or refuses (uint64 or float): quote it"
        )),
        Value::Null => Err(
            "a null mapping key (`~`, `null` or empty): Kubernetes' YAML reader refuses it; quote it"
                .into(),
        ),
        Value::Array(_) | Value::Object(_) => Err("a mapping key must be a scalar".into()),
    }
}

/// Whether a scalar is a merge key as go-yaml v2 decides it (decode.go,
/// `isMerge`): the text `<<`, plain and untagged (or tagged with the
/// non-specific `!`), or tagged `!!merge`. A quoted `"<<"` is a literal key.
fn is_merge_key(text: &str, style: ScalarStyle, tag: Option<&str>) -> bool {
    text == "<<"
        && match tag {
            None => style == ScalarStyle::Plain,
            Some(t) => t == "!" || t == MERGE_TAG,
        }
}

/// YAML merge keys (`<<: *defaults`, `<<: [*a, *b]`) as go-yaml v2 applies
/// them (decode.go, `merge`): in document order, each merged key set over
/// whatever the mapping held, and among listed mappings the earlier one wins.
/// So an explicit key AFTER the `<<` wins (it is set last, see
/// [`Entries::explicit`]) in every reader; one BEFORE it is overwritten by
/// go-yaml but kept by YAML 1.2 readers: which value the cluster gets
/// depends on the tool, so that is a load error.
fn merge_into(entries: &mut Entries, node: &Node, merge_pos: Pos) -> Result<(), LoadError> {
    let not_mappings = |pos| LoadError {
        pos,
        message: "a merge key (<<) takes a mapping or a list of mappings".into(),
    };
    let sources: Vec<&Vec<(String, Pos, Arc<Node>)>> = match &node.kind {
        NodeKind::Map(m) => vec![m],
        NodeKind::Seq(items) => items
            .iter()
            .map(|n| match &n.kind {
                NodeKind::Map(m) => Ok(m),
                _ => Err(not_mappings(n.pos)),
            })
            .collect::<Result<_, _>>()?,
        NodeKind::Scalar(_) => return Err(not_mappings(node.pos)),
    };
    for source in sources {
        for (k, p, v) in source {
            match entries.find(k) {
                // Set by an earlier mapping of this same merge: that one wins.
                Some(i) if entries.merged[i] => {}
                Some(i) => {
                    return Err(LoadError {
                        pos: merge_pos,
                        message: format!(
                            "key `{k}` is set explicitly (line {}) and then again by a merge key: YAML parsers disagree on which wins (Kubernetes' takes the merge); write the key once, after the `<<`",
                            entries.list[i].1.line
                        ),
                    })
                }
                None => entries.push(k.clone(), *p, Arc::clone(v), true),
            }
        }
    }
    Ok(())
}

/// The YAML tag namespace that `!!` stands for.
const CORE: &str = "tag:yaml.org,2002:";
const MERGE_TAG: &str = "tag:yaml.org,2002:merge";

/// A scalar as go-yaml v2 decodes it into an `interface{}` (decode.go,
/// `scalar`; resolve.go, `resolve`), which is what sigs.k8s.io/yaml turns
/// into the JSON that kubectl and Argo CD send to the cluster:
/// - quoted and untagged: a string;
/// - a non-specific (`!`), local (`!foo`) or other unknown tag: the text as a
///   string (`resolvableTag` is false, the text is kept);
/// - `!!str`: the text; `!!bool`, `!!int`, `!!float`, `!!null` resolve the
///   text even when it is quoted (`!!bool "true"` is a boolean) and must
///   resolve to that type (`!!float` also takes an integer), or go-yaml fails;
/// - `!!binary` is base64-decoded by go-yaml: refused here rather than
///   decoded (no manifest needs it, and the decoded bytes are what counts);
/// - plain and untagged: the YAML 1.1 rules of [`resolve_plain`].
///
/// An `Err` is a scalar the gate cannot judge as the cluster would read it.
fn resolve_scalar(text: &str, style: ScalarStyle, tag: Option<&str>) -> Result<Value, String> {
    let Some(tag) = tag else {
        return if style == ScalarStyle::Plain {
            resolve_plain(text)
        } else {
            Ok(Value::String(text.to_string()))
        };
    };
    let Some(short) = tag.strip_prefix(CORE) else {
        return Ok(Value::String(text.to_string()));
    };
    let wrong = |what: &str| {
        format!("`!!{short} {text}` is not a {what}: Kubernetes' YAML reader refuses it")
    };
    match short {
        "str" => Ok(Value::String(text.to_string())),
        "binary" => Err(
            "a `!!binary` scalar is base64-decoded by Kubernetes' YAML reader: write the decoded text, or base64 without the tag".into(),
        ),
        "bool" => match resolve_plain(text)? {
            v @ Value::Bool(_) => Ok(v),
            _ => Err(wrong("boolean")),
        },
        "null" => match resolve_plain(text)? {
            Value::Null => Ok(Value::Null),
            _ => Err(wrong("null")),
        },
        "int" => match resolve_plain(text)? {
            Value::Number(n) if !n.is_f64() => Ok(Value::Number(n)),
            _ => Err(wrong("integer")),
        },
        "float" => match resolve_plain(text)? {
            Value::Number(n) => Ok(Value::Number(n)),
            _ => Err(wrong("number")),
        },
        // go-yaml keeps a timestamp decoded into `interface{}` as its text
        // (decode.go: "for backward compatibility reasons we set it as a
        // string"); one that does not parse fails there. Every timestamp
        // go-yaml accepts starts with a four-digit year and a dash.
        "timestamp" => {
            let b = text.as_bytes();
            if b.len() > 4 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-' {
                Ok(Value::String(text.to_string()))
            } else {
                Err(wrong("timestamp"))
            }
        }
        // `!!merge`, `!!seq`, `!!map` and unknown names: not resolvable, the
        // text is kept.
        _ => Ok(Value::String(text.to_string())),
    }
}

/// go-yaml v2's `resolve("", text)` (resolve.go, v2 branch), step by step:
/// 1. the first character picks the path: a sign or digit may be a number,
///    `yYnNtTfFoO~` may be a word of the table below, `.` may be a float;
///    anything else is a string;
/// 2. the table: `y Y yes Yes YES true True TRUE on On ON` are true,
///    `n N no No NO false False FALSE off Off OFF` false, `` `~` `null`
///    `Null` `NULL` null, `.nan`/`.inf` and their variants NaN and infinity;
/// 3. numbers: underscores dropped, then Go's `strconv.ParseInt(s, 0, 64)`
///    (`0x1F`, `0o17`, `0b101`, and `017` OCTAL), then `ParseUint`, then a
///    float matching `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
///    (so `09` is the float 9), then `0b`/`-0b` binary; otherwise a string.
///    Timestamps (`2001-12-14`) are tried first but stay strings when decoded
///    into `interface{}`, and nothing of that shape is a number: strings.
///    Sexagesimal `1:20` is "purposefully unsupported": a string.
///
/// NaN and infinities cannot be carried in JSON (sigs.k8s.io/yaml fails on
/// them), and a `.`-float with underscores depends on Go's float syntax:
/// both are errors.
fn resolve_plain(text: &str) -> Result<Value, String> {
    match text {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Ok(Value::Bool(true))
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Ok(Value::Bool(false))
        }
        "" | "~" | "null" | "Null" | "NULL" => return Ok(Value::Null),
        ".nan" | ".NaN" | ".NAN" | ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF"
        | "-.inf" | "-.Inf" | "-.INF" => {
            return Err(format!(
                "`{text}` is NaN or an infinity to Kubernetes' YAML reader, which JSON cannot carry: quote it"
            ))
        }
        _ => {}
    }
    let string = || Ok(Value::String(text.to_string()));
    match text.as_bytes()[0] {
        b'.' => {
            // Go's float syntax allows `_` between digits (`.5_0`); whether
            // ParseFloat does here is not mirrored: refused when it could be.
            if text.contains('_') && decimal_float(&text.replace('_', "")).is_some() {
                return Err(format!(
                    "`{text}`: whether Kubernetes' YAML reader takes this as a number depends on Go's float syntax: quote it or write the number plainly"
                ));
            }
            // `strconv.ParseFloat(text)`: a `.` then digits, maybe an exponent.
            Ok(decimal_float(text).map_or_else(|| Value::String(text.to_string()), float))
        }
        b'+' | b'-' | b'0'..=b'9' => {
            let plain = if text.contains('_') {
                std::borrow::Cow::Owned(text.replace('_', ""))
            } else {
                std::borrow::Cow::Borrowed(text)
            };
            if let Some(n) = go_parse_int(&plain) {
                return Ok(Value::Number(n.into()));
            }
            if let Some(n) = go_parse_uint(&plain) {
                return Ok(Value::Number(n.into()));
            }
            if let Some(f) = decimal_float(&plain) {
                return Ok(float(f));
            }
            // The `0b`/`-0b` branch: ParseInt(base 0) above already reads
            // `0b101` and `-0b101`, so nothing is left for it to add.
            string()
        }
        _ => string(),
    }
}

/// A float that `decimal_float` found finite.
fn float(f: f64) -> Value {
    Number::from_f64(f).map_or(Value::Null, Value::Number)
}

/// go-yaml's `yamlStyleFloat` regex, then `strconv.ParseFloat`: `None` when
/// the text does not match or overflows (ParseFloat fails with ErrRange).
fn decimal_float(text: &str) -> Option<f64> {
    let t = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        // `\.[0-9]+` or `[0-9]+\.[0-9]*`
        Some(("", frac)) => digits(frac),
        Some((int, frac)) => digits(int) && (frac.is_empty() || digits(frac)),
        None => digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e)));
    if !(mantissa_ok && exponent_ok) {
        return None;
    }
    text.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// Go's `strconv.ParseUint(s, 0, 64)` on text without underscores: `0x`,
/// `0o`, `0b` prefixes (with at least one digit after), a leading `0` for
/// octal, else decimal; no sign.
fn go_parse_uint(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    let (radix, digits) = match b {
        [] => return None,
        [b'0', p, _, ..] if p.eq_ignore_ascii_case(&b'x') => (16, &s[2..]),
        [b'0', p, _, ..] if p.eq_ignore_ascii_case(&b'o') => (8, &s[2..]),
        [b'0', p, _, ..] if p.eq_ignore_ascii_case(&b'b') => (2, &s[2..]),
        [b'0', ..] => (8, &s[1..]),
        _ => (10, s),
    };
    // `from_str_radix` would take a sign: Go's digits loop does not.
    if !digits.bytes().all(|c| (c as char).is_digit(radix)) {
        return None;
    }
    if digits.is_empty() {
        // Only `0` itself gets here (Go: a lone "0" is octal zero).
        return Some(0);
    }
    u64::from_str_radix(digits, radix).ok()
}

/// Go's `strconv.ParseInt(s, 0, 64)`: an optional sign, then `ParseUint`,
/// within the range of an i64.
fn go_parse_int(s: &str) -> Option<i64> {
    let (neg, rest) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let u = go_parse_uint(rest)?;
    if neg {
        (u <= 1u64 << 63).then(|| u.cast_signed().wrapping_neg())
    } else {
        i64::try_from(u).ok()
    }
}

/// The YAML 1.2 core schema, for govops' own config file (which serde-saphyr
/// reads with these rules, so `severity: {X: off}` is the string `off`):
/// plain scalars may be null, booleans or numbers; quoted ones are strings;
/// `!!str` and `!!null` force a type. `tag` is the short name of a `!!` tag.
fn resolve_core(text: &str, style: ScalarStyle, tag: Option<&str>) -> Value {
    if let Some(tag) = tag {
        match tag {
            "str" => return Value::String(text.to_string()),
            "null" => return Value::Null,
            "bool" | "int" | "float" => {}
            _ => {}
        }
    }
    if style != ScalarStyle::Plain {
        return Value::String(text.to_string());
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if let Some(n) = core_parse_int(text) {
        return Value::Number(n.into());
    }
    if core_looks_like_float(text) {
        if let Some(n) = text.parse::<f64>().ok().and_then(Number::from_f64) {
            return Value::Number(n);
        }
    }
    Value::String(text.to_string())
}

fn core_parse_int(text: &str) -> Option<i64> {
    let (neg, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let value = if let Some(hex) = text.strip_prefix("0x") {
        i64::from_str_radix(hex, 16).ok()?
    } else if let Some(oct) = text.strip_prefix("0o") {
        i64::from_str_radix(oct, 8).ok()?
    } else if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse::<i64>().ok()?
    } else {
        return None;
    };
    Some(if neg { -value } else { value })
}

fn core_looks_like_float(text: &str) -> bool {
    let t = text.trim_start_matches(['-', '+']);
    let (mantissa, exponent) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let mut parts = mantissa.splitn(2, '.');
    let int = parts.next().unwrap_or("");
    let frac = parts.next();
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match frac {
        Some(f) => digits(int) && digits(f) && !(int.is_empty() && f.is_empty()),
        None => !int.is_empty() && digits(int),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.trim_start_matches(['-', '+']);
        !e.is_empty() && digits(e)
    });
    mantissa_ok && exponent_ok && (frac.is_some() || exponent.is_some())
}

impl Node {
    /// Nodes in this subtree with aliases expanded (keys count too): the
    /// cost of one alias to it. Known since loading, so constant time.
    pub fn size(&self) -> usize {
        self.size
    }

    /// The JSON value of this subtree.
    pub fn to_json(&self) -> Value {
        match &self.kind {
            NodeKind::Scalar(v) => v.clone(),
            NodeKind::Seq(items) => Value::Array(items.iter().map(|n| n.to_json()).collect()),
            NodeKind::Map(entries) => {
                let mut map = Map::with_capacity(entries.len());
                for (k, _, v) in entries {
                    map.insert(k.clone(), v.to_json());
                }
                Value::Object(map)
            }
        }
    }

    /// The entry `key` of a mapping node.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            NodeKind::Map(entries) => entries
                .iter()
                .find(|(k, _, _)| k == key)
                .map(|(_, _, n)| &**n),
            _ => None,
        }
    }

    /// Where a JSON Pointer lands: the key of the deepest existing step (a
    /// mapping entry's key, or a sequence item), so that a missing label
    /// points at `labels:` or, failing that, at `metadata:`.
    pub fn locate(&self, pointer: &str) -> Pos {
        let mut node = self;
        let mut at = self.pos;
        for raw in pointer.split('/').skip(1) {
            let token = raw.replace("~1", "/").replace("~0", "~");
            let next = match &node.kind {
                NodeKind::Map(entries) => entries
                    .iter()
                    .find(|(k, _, _)| *k == token)
                    .map(|(_, kpos, n)| (*kpos, &**n)),
                NodeKind::Seq(items) => token
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| items.get(i))
                    .map(|n| (n.pos, &**n)),
                NodeKind::Scalar(_) => None,
            };
            match next {
                Some((pos, n)) => {
                    at = pos;
                    node = n;
                }
                None => break,
            }
        }
        at
    }
}

/// The positions of a file's nodes, kept after its trees are dropped: what
/// pointing a finding at a line needs, in three flat arrays. Built during the
/// one parse of the file, so findings never parse it again (a second parse
/// of every file with findings was a tenth of a large check), and a fraction
/// of the tree's size: no scalar values, one string for every key. An
/// anchored node and its aliases stay one node here, as in the tree, so an
/// alias costs one entry however large its target.
#[derive(Debug, Default)]
pub struct Positions {
    /// Each document's index in the stream and its root node, in stream order.
    roots: Vec<(usize, u32)>,
    nodes: Vec<Slot>,
    /// The entries of every mapping and sequence, each node's contiguous.
    entries: Vec<Entry>,
    /// Every mapping key's text, one after another.
    keys: String,
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    pos: Pos,
    map: bool,
    first: u32,
    len: u32,
}

/// A mapping entry (its key's text and position) or a sequence item (its
/// own position, no key).
#[derive(Debug, Clone, Copy)]
struct Entry {
    key: (u32, u32),
    pos: Pos,
    node: u32,
}

impl Positions {
    /// The positions of `docs`' nodes.
    pub fn of(docs: &[Document]) -> Positions {
        let mut out = Positions::default();
        let mut shared = HashMap::new();
        for d in docs {
            let root = out.add(&d.root, &mut shared);
            out.roots.push((d.index, root));
        }
        out
    }

    /// Add a node and what is below it, once per node however many aliases
    /// name it; returns its number.
    fn add(&mut self, node: &Node, shared: &mut HashMap<*const Node, u32>) -> u32 {
        let mut entries: Vec<Entry> = Vec::new();
        let map = match &node.kind {
            NodeKind::Scalar(_) => false,
            NodeKind::Seq(items) => {
                for n in items {
                    let child = self.child(n, shared);
                    entries.push(Entry {
                        key: (0, 0),
                        pos: n.pos,
                        node: child,
                    });
                }
                false
            }
            NodeKind::Map(items) => {
                for (k, kpos, n) in items {
                    let child = self.child(n, shared);
                    let start = self.keys.len() as u32;
                    self.keys.push_str(k);
                    entries.push(Entry {
                        key: (start, k.len() as u32),
                        pos: *kpos,
                        node: child,
                    });
                }
                true
            }
        };
        let slot = Slot {
            pos: node.pos,
            map,
            first: self.entries.len() as u32,
            len: entries.len() as u32,
        };
        self.entries.extend(entries);
        self.nodes.push(slot);
        (self.nodes.len() - 1) as u32
    }

    fn child(&mut self, n: &Arc<Node>, shared: &mut HashMap<*const Node, u32>) -> u32 {
        // Only a node with aliases is looked up: most nodes have none.
        if Arc::strong_count(n) == 1 {
            return self.add(n, shared);
        }
        let key = Arc::as_ptr(n);
        if let Some(i) = shared.get(&key) {
            return *i;
        }
        let i = self.add(n, shared);
        shared.insert(key, i);
        i
    }

    /// Where a JSON Pointer lands in document `doc`, as `Node::locate` says;
    /// None for a document the file does not have.
    pub fn locate(&self, doc: usize, pointer: &str) -> Option<Pos> {
        // Documents are in stream order: a search, not a scan per finding.
        let i = self.roots.binary_search_by_key(&doc, |r| r.0).ok()?;
        let mut node = self.nodes[self.roots[i].1 as usize];
        let mut at = node.pos;
        for raw in pointer.split('/').skip(1) {
            let token = raw.replace("~1", "/").replace("~0", "~");
            let entries = &self.entries[node.first as usize..(node.first + node.len) as usize];
            let next = if node.map {
                entries.iter().find(|e| {
                    let (start, len) = (e.key.0 as usize, e.key.1 as usize);
                    self.keys[start..start + len] == token
                })
            } else {
                token.parse::<usize>().ok().and_then(|i| entries.get(i))
            };
            match next {
                Some(e) => {
                    at = e.pos;
                    node = self.nodes[e.node as usize];
                }
                None => break,
            }
        }
        Some(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        max_documents: 100,
        max_alias_expansion: 1000,
    };

    #[test]
    fn lone_carriage_returns_do_not_shift_line_numbers() {
        // YAML breaks lines at a lone \r; git and GitHub do not.
        let docs = load("kind: A\r\rname: x\nlabels:\n  app: y\n", LIMITS).unwrap();
        let root = &docs[0].root;
        assert_eq!(
            root.locate("/name"),
            Pos {
                line: 1,
                column: 10
            }
        );
        assert_eq!(root.locate("/labels/app"), Pos { line: 3, column: 3 });
        let err = load("\r\r\r\nkey: [\n", LIMITS).unwrap_err();
        assert!(err.pos.line <= 3, "{err:?}");
    }

    /// JSON's surrogate pairs read as kubectl's JSON decoder reads them: a
    /// pair is its character, a lone surrogate U+FFFD, an escaped backslash
    /// no escape; the keys after a pair keep the columns of the file; a YAML
    /// file with a pair is refused, as kubectl refuses it.
    #[test]
    fn json_surrogate_pairs_read_as_kubectl_reads_them() {
        let text = "{\"a\": \"x\\ud83d\\ude00y\\ud83d\\ude01\", \"b\": \"\\ud83d\", \"c\": \"\\\\ud83d\",\n \"d\": {\"e\": \"\\uDBFF\\uDFFF\", \"f\": 1}}\n";
        let docs = load(text, LIMITS).unwrap();
        let root = &docs[0].root;
        assert_eq!(
            root.to_json(),
            serde_json::json!({"a": "x\u{1F600}y\u{1F601}", "b": "\u{FFFD}", "c": "\\ud83d",
                "d": {"e": "\u{10FFFF}", "f": 1}})
        );
        // Columns in the file as written, on the line of the pairs and after it.
        let column = |key: &str, line: usize| {
            u32::try_from(text.lines().nth(line).unwrap().find(key).unwrap() + 1).unwrap()
        };
        assert_eq!(
            root.locate("/b"),
            Pos {
                line: 1,
                column: column("\"b\"", 0)
            }
        );
        assert_eq!(
            root.locate("/c"),
            Pos {
                line: 1,
                column: column("\"c\"", 0)
            }
        );
        assert_eq!(
            root.locate("/d/f"),
            Pos {
                line: 2,
                column: column("\"f\"", 1)
            }
        );
        assert!(load("a: \"\\ud83d\\ude00\"\n", LIMITS).is_err());
        assert!(load("  {\"a\": \"\\u00e9\"}", LIMITS).is_ok());
    }

    #[test]
    fn positions_of_keys_and_nearest_parent() {
        let docs = load(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n  labels:\n    app: y\n",
            LIMITS,
        )
        .unwrap();
        let root = &docs[0].root;
        assert_eq!(
            root.locate("/metadata/labels/app"),
            Pos { line: 6, column: 5 }
        );
        assert_eq!(
            root.locate("/metadata/labels/owner"),
            Pos { line: 5, column: 3 }
        );
        assert_eq!(root.locate("/spec/containers"), Pos { line: 1, column: 1 });
    }

    #[test]
    fn scalars_resolve_as_kubernetes_reads_them() {
        let docs = load(
            "a: 1\nb: '1'\nc: true\nd: ~\ne: 1.5\nf: yes\ng: 0x1F\n",
            LIMITS,
        )
        .unwrap();
        let v = docs[0].root.to_json();
        assert_eq!(
            v,
            serde_json::json!({"a":1,"b":"1","c":true,"d":null,"e":1.5,"f":true,"g":31})
        );
    }

    #[test]
    fn the_config_file_keeps_yaml_1_2_scalars() {
        // serde-saphyr reads the config with YAML 1.2: `off` is a string.
        let v = load_core("a: off\nb: yes\nc: 010\nd: true\n", LIMITS).unwrap()[0]
            .root
            .to_json();
        assert_eq!(
            v,
            serde_json::json!({"a": "off", "b": "yes", "c": 10, "d": true})
        );
    }

    fn value(yaml: &str) -> Result<Value, LoadError> {
        load(&format!("v: {yaml}\n"), LIMITS).map(|d| d[0].root.to_json()["v"].clone())
    }

    #[test]
    fn yaml_1_1_booleans_are_booleans() {
        // go-yaml v2 resolve.go: the whole table, and nothing else.
        for t in [
            "y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "true", "True", "TRUE",
        ] {
            assert_eq!(value(t).unwrap(), Value::Bool(true), "{t}");
        }
        for f in [
            "n", "N", "no", "No", "NO", "off", "Off", "OFF", "false", "False", "FALSE",
        ] {
            assert_eq!(value(f).unwrap(), Value::Bool(false), "{f}");
        }
        for s in [
            "yEs", "oN", "nO", "tRue", "ye", "of", "enabled", "'yes'", "\"on\"",
        ] {
            assert!(value(s).unwrap().is_string(), "{s}");
        }
    }

    #[test]
    fn yaml_1_1_numbers_are_numbers() {
        use serde_json::json;
        let cases = [
            ("010", json!(8)),
            ("-010", json!(-8)),
            ("0o10", json!(8)),
            ("0O10", json!(8)),
            ("0b1010", json!(10)),
            ("-0b1010", json!(-10)),
            ("0B11", json!(3)),
            ("0x1F", json!(31)),
            ("0X1f", json!(31)),
            ("+12", json!(12)),
            ("1_000", json!(1000)),
            ("1__0_", json!(10)),
            ("0", json!(0)),
            ("00", json!(0)),
            ("09", json!(9.0)),
            ("1.", json!(1.0)),
            (".5", json!(0.5)),
            ("+.5", json!(0.5)),
            ("-1.5e3", json!(-1500.0)),
            ("1e3", json!(1000.0)),
            ("18446744073709551615", json!(18446744073709551615u64)),
            ("-9223372036854775808", json!(i64::MIN)),
            ("99999999999999999999", json!(1e20)),
        ];
        for (text, want) in cases {
            assert_eq!(value(text).unwrap(), want, "{text}");
        }
        // Strings to go-yaml v2 (sexagesimal is "purposefully unsupported").
        for s in [
            "1:20",
            "0x",
            "0b",
            "0b2",
            "0o8",
            "1e400",
            "2001-12-14",
            "1.2.3",
            "_1",
            "1e",
            "+",
            ".",
            ".e1",
            "0xFFFFFFFFFFFFFFFFFF",
            ".nan_",
            "-.nan",
            "nan",
            "Infinity",
            "1_000.x",
        ] {
            assert_eq!(value(s).unwrap(), Value::String(s.into()), "{s}");
        }
        // NaN and infinities: JSON cannot carry them.
        for e in [".nan", ".NaN", ".inf", "-.Inf", "+.INF", ".5_0"] {
            assert!(value(e).is_err(), "{e}");
        }
    }

    #[test]
    fn explicit_tags_resolve_quoted_text() {
        use serde_json::json;
        assert_eq!(value("!!bool \"true\"").unwrap(), json!(true));
        assert_eq!(value("!!bool 'yes'").unwrap(), json!(true));
        assert_eq!(value("!!int \"0\"").unwrap(), json!(0));
        assert_eq!(value("!!int '010'").unwrap(), json!(8));
        assert_eq!(value("!!float '1'").unwrap(), json!(1));
        assert_eq!(value("!!null ''").unwrap(), json!(null));
        assert_eq!(value("!!str 010").unwrap(), json!("010"));
        assert_eq!(
            value("!<tag:yaml.org,2002:bool> 'on'").unwrap(),
            json!(true)
        );
        assert_eq!(
            value("!!timestamp 2001-12-14").unwrap(),
            json!("2001-12-14")
        );
        // Unknown, local and non-specific tags keep the text.
        assert_eq!(value("!foo yes").unwrap(), json!("yes"));
        assert_eq!(value("! 010").unwrap(), json!("010"));
        assert_eq!(value("!!merge 1").unwrap(), json!("1"));
        // A %TAG directive can move `!!` elsewhere: then it is not core.
        let docs = load(
            "%TAG !! tag:example.com,2000:\n---\nv: !!bool yes\n",
            LIMITS,
        )
        .unwrap();
        assert_eq!(docs[0].root.to_json()["v"], json!("yes"));
        // go-yaml fails on these: refused, naming the line.
        for e in [
            "!!bool 'maybe'",
            "!!int 1.5",
            "!!null x",
            "!!binary aGk=",
            "!!timestamp 12",
        ] {
            let err = value(e).unwrap_err();
            assert_eq!(err.pos.line, 1, "{e}: {err:?}");
        }
    }

    #[test]
    fn keys_become_the_strings_kubernetes_makes_of_them() {
        let v = load("on: 1\n010: 2\n0x10: 3\nno: 4\n", LIMITS).unwrap()[0]
            .root
            .to_json();
        assert_eq!(
            v,
            serde_json::json!({"true": 1, "8": 2, "16": 3, "false": 4})
        );
        // `y` and `true` are one key to go-yaml: a duplicate.
        assert!(load("y: 1\n\"true\": 2\n", LIMITS).is_err());
        for bad in [
            "~: 1\n",
            "null: 1\n",
            "1.5: 1\n",
            "18446744073709551615: 1\n",
        ] {
            let err = load(bad, LIMITS).unwrap_err();
            assert_eq!(err.pos.line, 1, "{bad}: {err:?}");
        }
    }

    #[test]
    fn a_merge_after_an_explicit_key_is_an_error() {
        // go-yaml v2 lets the merge overwrite `kind`; YAML 1.2 keeps it.
        let text = "apiVersion: v1\nkind: RoleBinding\n<<: {kind: ClusterRoleBinding}\n";
        let err = load(text, LIMITS).unwrap_err();
        assert_eq!(err.pos.line, 3, "{err:?}");
        assert!(err.message.contains("key `kind`"), "{err:?}");
        assert!(err.message.contains("line 2"), "{err:?}");
        // Through an alias, from a list, nested in an anchored mapping.
        for text in [
            "b: &b {kind: X}\nm:\n  kind: Y\n  <<: *b\n",
            "a: &a {x: 1}\nb: &b {kind: X}\nm: {kind: Y, <<: [*a, *b]}\n",
            "b: &b {kind: X}\nm: &m {kind: Y, <<: *b}\nn: {<<: *m}\n",
            "m: {kind: Y, !!merge <<: {kind: X}}\n",
        ] {
            assert!(load(text, LIMITS).is_err(), "{text}");
        }
        // After the merge the explicit key wins everywhere: still valid.
        let v = load("b: &b {kind: X, a: 1}\nm: {<<: *b, kind: Z}\n", LIMITS).unwrap()[0]
            .root
            .to_json();
        assert_eq!(v["m"], serde_json::json!({"kind": "Z", "a": 1}));
        // Keys the merge does not set may come first.
        assert!(load("b: &b {a: 1}\nm: {kind: Z, <<: *b}\n", LIMITS).is_ok());
    }

    #[test]
    fn only_a_plain_or_merge_tagged_key_merges() {
        use serde_json::json;
        for quoted in ["\"<<\"", "'<<'", "!!str <<"] {
            let v = load(&format!("m: {{{quoted}: {{a: 1}}}}\n"), LIMITS).unwrap()[0]
                .root
                .to_json();
            assert_eq!(v["m"], json!({"<<": {"a": 1}}), "{quoted}");
        }
        // An alias to a `<<` scalar is a literal key too (go-yaml's isMerge
        // looks at the node, and an alias node is not a scalar).
        let v = load("k: &k <<\nm: {*k : {a: 1}}\n", LIMITS).unwrap()[0]
            .root
            .to_json();
        assert_eq!(v["m"], json!({"<<": {"a": 1}}));
        for merging in ["<<", "!!merge <<", "! <<"] {
            let v = load(&format!("m: {{{merging}: {{a: 1}}}}\n"), LIMITS).unwrap()[0]
                .root
                .to_json();
            assert_eq!(v["m"], json!({"a": 1}), "{merging}");
        }
    }

    #[test]
    fn multi_document_indices_skip_empty_documents() {
        let docs = load("---\na: 1\n---\n---\nb: 2\n", LIMITS).unwrap();
        assert_eq!(docs.iter().map(|d| d.index).collect::<Vec<_>>(), vec![0, 2]);
    }

    #[test]
    fn alias_bomb_hits_the_budget() {
        let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..8 {
            let prev = (b'a' + i - 1) as char;
            let this = (b'a' + i) as char;
            text.push_str(&format!(
                "{this}: &{this} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
            ));
        }
        let err = load(&text, LIMITS).unwrap_err();
        assert!(err.message.contains("alias"), "{}", err.message);
    }

    #[test]
    fn duplicate_keys_are_errors() {
        let err = load("a: 1\nb: 2\na: 3\n", LIMITS).unwrap_err();
        assert_eq!(err.pos.line, 3);
    }

    #[test]
    fn deep_nesting_is_refused() {
        let text = "[".repeat(MAX_DEPTH + 1);
        let err = load(&text, LIMITS).unwrap_err();
        assert!(
            err.message.contains("nesting") || err.message.contains("recursion"),
            "{err:?}"
        );
    }

    #[test]
    fn json_with_tabs_loads() {
        let docs = load(
            "{\n\t\"apiVersion\": \"v1\",\n\t\"kind\": \"Pod\"\n}\n",
            LIMITS,
        )
        .unwrap();
        assert_eq!(docs[0].root.locate("/kind"), Pos { line: 3, column: 2 });
    }

    #[test]
    fn explicit_keys_override_merged_ones() {
        // (An explicit key BEFORE the merge: a_merge_after_an_explicit_key_is_an_error.)
        let text = "base: &b {a: 1, b: 2}\nother: &o {b: 20, c: 30}\nx:\n  <<: *b\n  b: 3\nz:\n  <<: [*b, *o]\n";
        let v = load(text, LIMITS).unwrap()[0].root.to_json();
        assert_eq!(v["x"], serde_json::json!({"a": 1, "b": 3}));
        // Among merged mappings the earlier one wins.
        assert_eq!(v["z"], serde_json::json!({"a": 1, "b": 2, "c": 30}));
        // The overriding key is where a finding about it points.
        let root = &load(text, LIMITS).unwrap()[0].root;
        assert_eq!(root.locate("/x/b"), Pos { line: 5, column: 3 });
    }

    #[test]
    fn two_explicit_equal_keys_stay_an_error_with_a_merge() {
        let err = load("base: &b {a: 1}\nx:\n  <<: *b\n  a: 2\n  a: 3\n", LIMITS).unwrap_err();
        assert_eq!(err.pos.line, 5, "{err:?}");
        let err = load("base: &b {a: 1}\nx:\n  <<: *b\n  <<: *b\n", LIMITS).unwrap_err();
        assert_eq!(err.pos.line, 4, "{err:?}");
    }

    #[test]
    fn many_keys_load_in_linear_time() {
        // A scan per key made this quadratic: 80,000 keys took 44 s.
        let keys = 200_000;
        let mut text = String::from("{");
        for i in 0..keys {
            text.push_str(&format!("\"k{i}\": {i},"));
        }
        text.push_str("\"k0\": 0}");
        let started = std::time::Instant::now();
        let err = load(&text, LIMITS).unwrap_err();
        assert!(err.message.contains("duplicate key \"k0\""), "{err:?}");
        assert!(started.elapsed().as_secs() < 5, "{:?}", started.elapsed());
    }

    #[test]
    fn nested_anchors_are_shared_not_copied() {
        // Each anchor used to copy its subtree: 200 nested anchors around a
        // large list grew past 4 GB.
        let mut text = String::new();
        for i in 0..200 {
            text.push_str(&format!("{}k{i}: &a{i}\n", "  ".repeat(i)));
        }
        text.push_str(&format!("{}- x\n", "  ".repeat(200)).repeat(50_000));
        let started = std::time::Instant::now();
        let docs = load(&text, LIMITS).unwrap();
        assert!(started.elapsed().as_secs() < 5, "{:?}", started.elapsed());
        assert_eq!(docs[0].root.size(), 200 * 2 + 50_001);
    }

    #[test]
    fn aliases_are_bounded_over_the_whole_file() {
        // Each document stays within the budget; together they do not.
        let doc = format!(
            "a: &a [{}]\nb: [*a, *a, *a, *a, *a, *a, *a, *a]\n",
            "x, ".repeat(100)
        );
        let text = format!("---\n{doc}").repeat(FILE_EXPANSION_FACTOR + 1);
        let err = load(&text, LIMITS).unwrap_err();
        assert!(err.message.contains("in this file"), "{err:?}");
        assert!(load(&format!("---\n{doc}"), LIMITS).is_ok());
    }

    #[test]
    fn the_positions_index_locates_as_the_tree_does() {
        let text = "a: &x\n  k: [1, {m: 2}]\n  'q/r': 3\nb: *x\nc:\n  <<: *x\n  k: 9\n---\n- z\n- {y: 1}\n---\nlast: 1\n";
        let docs = load(text, LIMITS).unwrap();
        let index = Positions::of(&docs);
        let pointers = [
            "",
            "/a",
            "/a/k",
            "/a/k/0",
            "/a/k/1/m",
            "/a/k/1/none",
            "/a/k/9",
            "/a/q~1r",
            "/b/k/1",
            "/b/gone/deeper",
            "/c",
            "/c/k",
            "/c/q~1r",
            "/0",
            "/1/y",
            "/1/x",
            "/last",
            "/last/x",
            "/nothing",
        ];
        for d in &docs {
            for p in pointers {
                assert_eq!(
                    index.locate(d.index, p),
                    Some(d.root.locate(p)),
                    "doc {} {p}",
                    d.index
                );
            }
        }
        assert_eq!(index.locate(7, "/a"), None);
        // The anchored mapping and its aliases are one node.
        assert!(index.nodes.len() < 20, "{}", index.nodes.len());
    }
}
