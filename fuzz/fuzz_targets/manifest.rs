//! A manifest is any file a pull request adds: any bytes. Decoding and the
//! positioned YAML loader must never panic or run away (aliases, nesting),
//! and every position they give must lie inside the text.
#![no_main]

use govops::collect::manifests::decode;
use govops::yaml::{self, Limits, Node, NodeKind, Pos};
use libfuzzer_sys::fuzz_target;

const LIMITS: Limits = Limits {
    max_documents: 100,
    max_alias_expansion: 10_000,
};

/// `at`: where a finding pointing at this node must land: the node itself for
/// the root and sequence items, the key for mapping entries.
fn check_positions(root: &Node, node: &Node, at: Pos, lines: u32, pointer: &mut String) {
    assert!(
        node.pos.line >= 1 && node.pos.line <= lines,
        "{:?} beyond {lines} lines",
        node.pos
    );
    assert_eq!(root.locate(pointer), at, "pointer {pointer:?}");
    match &node.kind {
        NodeKind::Map(entries) => {
            for (key, key_pos, value) in entries.iter().take(16) {
                assert!(key_pos.line >= 1 && key_pos.line <= lines);
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
                check_positions(root, value, *key_pos, lines, pointer);
                pointer.truncate(len);
            }
        }
        NodeKind::Seq(items) => {
            for (i, item) in items.iter().take(16).enumerate() {
                let len = pointer.len();
                pointer.push_str(&format!("/{i}"));
                check_positions(root, item, item.pos, lines, pointer);
                pointer.truncate(len);
            }
        }
        NodeKind::Scalar(_) => {}
    }
}

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = decode(bytes) else {
        return;
    };
    let lines = text.lines().count().max(1) as u32 + 1;
    match yaml::load(&text, LIMITS) {
        Ok(docs) => {
            assert!(docs.len() <= LIMITS.max_documents);
            for doc in &docs {
                let _ = doc.root.to_json();
                check_positions(
                    &doc.root,
                    &doc.root,
                    doc.root.pos,
                    lines,
                    &mut String::new(),
                );
                for pointer in [
                    "/metadata/labels",
                    "/spec/template/spec/containers/0/image",
                    "/a~1b/0",
                ] {
                    let pos = doc.root.locate(pointer);
                    assert!(pos.line >= 1 && pos.line <= lines);
                }
            }
        }
        Err(e) => {
            assert!(
                e.pos.line >= 1 && e.pos.line <= lines,
                "{e:?} beyond {lines} lines"
            );
            assert!(!e.message.is_empty());
        }
    }
});
