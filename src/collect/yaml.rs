//! A YAML (and so JSON) loader that keeps the line and column of every node,
//! built on saphyr-parser's event stream so that hostile input stays bounded:
//! alias expansion has a budget, nesting has a depth limit, duplicate keys are
//! errors (a second `labels:` must not hide the first from the gate).
//!
//! Every step is linear in the input: an anchored node is shared (an `Arc`),
//! never copied, so that anchors nested in anchors cost nothing extra; each
//! node knows its expanded size, so an alias is charged in constant time; a
//! large mapping checks its keys through a hash index.

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

/// Bounds for one file.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_documents: usize,
    pub max_alias_expansion: usize,
}

impl From<&crate::config::Limits> for Limits {
    fn from(l: &crate::config::Limits) -> Self {
        Limits {
            max_documents: l.max_documents,
            max_alias_expansion: l.max_alias_expansion,
        }
    }
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
    /// Character indices of every `\n`, when the text has a lone `\r`.
    newlines: Option<Vec<usize>>,
}

impl Lines {
    fn new(text: &str) -> Lines {
        let bytes = text.as_bytes();
        let lone_cr = bytes
            .iter()
            .enumerate()
            .any(|(i, b)| *b == b'\r' && bytes.get(i + 1) != Some(&b'\n'));
        Lines {
            newlines: lone_cr.then(|| {
                text.chars()
                    .enumerate()
                    .filter(|(_, c)| *c == '\n')
                    .map(|(i, _)| i)
                    .collect()
            }),
        }
    }

    fn pos(&self, marker: &Marker) -> Pos {
        match &self.newlines {
            None => Pos {
                line: marker.line() as u32,
                column: marker.col() as u32 + 1,
            },
            Some(newlines) => {
                let before = newlines.partition_point(|nl| *nl < marker.index());
                let line_start = if before == 0 {
                    0
                } else {
                    newlines[before - 1] + 1
                };
                Pos {
                    line: before as u32 + 1,
                    column: (marker.index() - line_start) as u32 + 1,
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
        key: Option<(String, Pos)>,
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

/// Load every document of `text`. Empty documents are dropped; indices stay
/// those of the stream so that `doc` numbers match what a reader counts.
pub fn load(text: &str, limits: Limits) -> Result<Vec<Document>, LoadError> {
    let lines = Lines::new(text);
    let mut parser = Parser::new_from_str(text);
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
                let tag = tag.map(|t| t.suffix.clone());
                let node = Node {
                    pos,
                    kind: NodeKind::Scalar(resolve_scalar(&value, style, tag.as_deref())),
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
        attach(&mut stack, &mut root, node)?;
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
fn attach(
    stack: &mut [Frame],
    root: &mut Option<Arc<Node>>,
    node: Arc<Node>,
) -> Result<(), LoadError> {
    match stack.last_mut() {
        None => *root = Some(node),
        Some(Frame::Seq { items, .. }) => items.push(node),
        Some(Frame::Map { entries, key, .. }) => match key.take() {
            None => {
                let text = match &node.kind {
                    NodeKind::Scalar(Value::String(s)) => s.clone(),
                    NodeKind::Scalar(Value::Null) => "null".to_string(),
                    NodeKind::Scalar(v) => v.to_string(),
                    _ => {
                        return Err(LoadError {
                            pos: node.pos,
                            message: "a mapping key must be a scalar".into(),
                        })
                    }
                };
                *key = Some((text, node.pos));
            }
            Some((k, kpos)) => {
                if k == "<<" {
                    if let Some(first) = entries.merge_key {
                        return Err(LoadError {
                            pos: kpos,
                            message: format!(
                                "duplicate merge key \"<<\" (first at line {}): list the mappings in one `<<: [*a, *b]`",
                                first.line
                            ),
                        });
                    }
                    entries.merge_key = Some(kpos);
                    merge_into(entries, &node)?;
                } else {
                    entries.explicit(k, kpos, node)?;
                }
            }
        },
    }
    Ok(())
}

/// YAML merge keys (`<<: *defaults`, `<<: [*a, *b]`): entries not already
/// present are added; explicit keys win wherever they stand, and among the
/// merged mappings the earlier one wins.
fn merge_into(entries: &mut Entries, node: &Node) -> Result<(), LoadError> {
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
        _ => return Err(not_mappings(node.pos)),
    };
    for source in sources {
        for (k, p, v) in source {
            if entries.find(k).is_none() {
                entries.push(k.clone(), *p, Arc::clone(v), true);
            }
        }
    }
    Ok(())
}

/// The YAML 1.2 core schema: plain scalars may be null, booleans or numbers;
/// quoted ones are strings; `!!str` and friends force a type.
fn resolve_scalar(text: &str, style: ScalarStyle, tag: Option<&str>) -> Value {
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
    if let Some(n) = parse_int(text) {
        return Value::Number(n.into());
    }
    if looks_like_float(text) {
        if let Some(n) = text.parse::<f64>().ok().and_then(Number::from_f64) {
            return Value::Number(n);
        }
    }
    Value::String(text.to_string())
}

fn parse_int(text: &str) -> Option<i64> {
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

fn looks_like_float(text: &str) -> bool {
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
    fn core_schema_scalars() {
        let docs = load(
            "a: 1\nb: '1'\nc: true\nd: ~\ne: 1.5\nf: yes\ng: 0x1F\n",
            LIMITS,
        )
        .unwrap();
        let v = docs[0].root.to_json();
        assert_eq!(
            v,
            serde_json::json!({"a":1,"b":"1","c":true,"d":null,"e":1.5,"f":"yes","g":31})
        );
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
        let text = "base: &b {a: 1, b: 2}\nother: &o {b: 20, c: 30}\nx:\n  <<: *b\n  b: 3\ny:\n  b: 4\n  <<: *b\nz:\n  <<: [*b, *o]\n";
        let v = load(text, LIMITS).unwrap()[0].root.to_json();
        assert_eq!(v["x"], serde_json::json!({"a": 1, "b": 3}));
        assert_eq!(v["y"], serde_json::json!({"b": 4, "a": 1}));
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
}
