//! A YAML (and so JSON) loader that keeps the line and column of every node,
//! built on saphyr-parser's event stream so that hostile input stays bounded:
//! alias expansion has a budget, nesting has a depth limit, duplicate keys are
//! errors (a second `labels:` must not hide the first from the gate).

use saphyr_parser::{Event, Marker, Parser, ScalarStyle};
use serde_json::{Map, Number, Value};
use std::collections::HashMap;

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
}

#[derive(Debug, Clone)]
pub enum NodeKind {
    Scalar(Value),
    Seq(Vec<Node>),
    /// Entries keep their key's text and the key's position, in source order.
    Map(Vec<(String, Pos, Node)>),
}

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
        items: Vec<Node>,
    },
    Map {
        pos: Pos,
        anchor: usize,
        entries: Vec<(String, Pos, Node)>,
        key: Option<(String, Pos)>,
    },
}

/// Load every document of `text`. Empty documents are dropped; indices stay
/// those of the stream so that `doc` numbers match what a reader counts.
pub fn load(text: &str, limits: Limits) -> Result<Vec<Document>, LoadError> {
    let lines = Lines::new(text);
    let mut parser = Parser::new_from_str(text);
    let mut docs = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, (Node, usize)> = HashMap::new();
    let mut expanded = 0usize;
    let mut doc_index = 0usize;
    let mut root: Option<Node> = None;
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
                            root,
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
                    entries: Vec::new(),
                    key: None,
                });
                continue;
            }
            Event::SequenceEnd => match stack.pop() {
                Some(Frame::Seq { pos, anchor, items }) => {
                    let node = Node {
                        pos,
                        kind: NodeKind::Seq(items),
                    };
                    remember(&mut anchors, anchor, &node);
                    node
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
                    let node = Node {
                        pos,
                        kind: NodeKind::Map(entries),
                    };
                    remember(&mut anchors, anchor, &node);
                    node
                }
                _ => return Err(internal(pos)),
            },
            Event::Scalar(value, style, anchor, tag) => {
                let tag = tag.map(|t| t.suffix.clone());
                let node = Node {
                    pos,
                    kind: NodeKind::Scalar(resolve_scalar(&value, style, tag.as_deref())),
                };
                remember(&mut anchors, anchor, &node);
                node
            }
            Event::Alias(id) => {
                let Some((node, size)) = anchors.get(&id) else {
                    return Err(LoadError {
                        pos,
                        message: "alias to an unknown anchor".into(),
                    });
                };
                expanded += size;
                if expanded > limits.max_alias_expansion {
                    return Err(LoadError {
                        pos,
                        message: format!(
                            "aliases expand to more than {} nodes (limits.max_alias_expansion): an alias bomb?",
                            limits.max_alias_expansion
                        ),
                    });
                }
                node.clone()
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

fn remember(anchors: &mut HashMap<usize, (Node, usize)>, anchor: usize, node: &Node) {
    if anchor != 0 {
        anchors.insert(anchor, (node.clone(), node.size()));
    }
}

/// Put a finished node into its parent (or make it the document root).
fn attach(stack: &mut [Frame], root: &mut Option<Node>, node: Node) -> Result<(), LoadError> {
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
                    merge_into(entries, node)?;
                } else if let Some((_, first, _)) = entries.iter().find(|(e, _, _)| *e == k) {
                    return Err(LoadError {
                        pos: kpos,
                        message: format!(
                            "duplicate key {k:?} (first at line {}): which one counts is ambiguous",
                            first.line
                        ),
                    });
                } else {
                    entries.push((k, kpos, node));
                }
            }
        },
    }
    Ok(())
}

/// YAML merge keys (`<<: *defaults`): entries not already present are added.
fn merge_into(entries: &mut Vec<(String, Pos, Node)>, node: Node) -> Result<(), LoadError> {
    let sources = match node.kind {
        NodeKind::Map(m) => vec![m],
        NodeKind::Seq(items) => items
            .into_iter()
            .map(|n| match n.kind {
                NodeKind::Map(m) => Ok(m),
                _ => Err(n.pos),
            })
            .collect::<Result<_, _>>()
            .map_err(|pos| LoadError {
                pos,
                message: "a merge key (<<) takes a mapping or a list of mappings".into(),
            })?,
        _ => {
            return Err(LoadError {
                pos: node.pos,
                message: "a merge key (<<) takes a mapping or a list of mappings".into(),
            })
        }
    };
    for source in sources {
        for (k, p, v) in source {
            if !entries.iter().any(|(e, _, _)| *e == k) {
                entries.push((k, p, v));
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
    /// Nodes in this subtree, the cost of one alias to it.
    pub fn size(&self) -> usize {
        match &self.kind {
            NodeKind::Scalar(_) => 1,
            NodeKind::Seq(items) => 1 + items.iter().map(Node::size).sum::<usize>(),
            NodeKind::Map(entries) => {
                1 + entries.iter().map(|(_, _, n)| 1 + n.size()).sum::<usize>()
            }
        }
    }

    /// The JSON value of this subtree.
    pub fn to_json(&self) -> Value {
        match &self.kind {
            NodeKind::Scalar(v) => v.clone(),
            NodeKind::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
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
            NodeKind::Map(entries) => entries.iter().find(|(k, _, _)| k == key).map(|(_, _, n)| n),
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
                    .map(|(_, kpos, n)| (*kpos, n)),
                NodeKind::Seq(items) => token
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| items.get(i))
                    .map(|n| (n.pos, n)),
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
}
