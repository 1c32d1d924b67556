//! A manifest file as loaded: its text, for the report's snippets, and the
//! positions of its nodes, for pointing findings at lines. Collection makes
//! these and findings and renderers read them.

use crate::input::ListItem;
use crate::yaml::{self, Document, Pos};
use std::collections::HashMap;
use std::sync::OnceLock;

/// A loaded file: its text (for snippets and positions).
#[derive(Debug)]
pub struct SourceFile {
    pub text: String,
    /// The positioned documents, parsed again on first use: findings point
    /// into few files, and keeping every node of every file alive until the
    /// report cost 20 MB and a twentieth of a large check.
    docs: OnceLock<Vec<Document>>,
    limits: yaml::Limits,
    /// The doc numbers of List items: their document and pointer prefix.
    items: HashMap<usize, ListItem>,
}

impl SourceFile {
    pub fn new(text: String, limits: yaml::Limits) -> Self {
        SourceFile {
            text,
            docs: OnceLock::new(),
            limits,
            items: HashMap::new(),
        }
    }

    /// Record the List items unpacked from the file: their doc numbers,
    /// and the document and pointer prefix each one lives at.
    pub fn with_items<'a>(
        mut self,
        items: impl IntoIterator<Item = (usize, &'a ListItem)>,
    ) -> Self {
        for (doc, item) in items {
            self.items.insert(doc, item.clone());
        }
        self
    }

    /// Position of a JSON Pointer inside document `doc` (or inside the List
    /// item numbered `doc`).
    pub fn locate(&self, doc: usize, pointer: &str) -> Option<Pos> {
        let docs = self
            .docs
            .get_or_init(|| yaml::load(&self.text, self.limits).unwrap_or_default());
        let (doc, pointer) = match self.items.get(&doc) {
            Some(item) => (item.doc, format!("{}{pointer}", item.pointer)),
            None => (doc, pointer.to_string()),
        };
        // Documents are in stream order: a search, not a scan per finding.
        let i = docs.binary_search_by_key(&doc, |d| d.index).ok()?;
        Some(docs[i].root.locate(&pointer))
    }
}
