//! A manifest file as loaded: its text, for the report's snippets, and the
//! positions of its nodes, for pointing findings at lines. Collection makes
//! these and findings and renderers read them.

use crate::input::ListItem;
use crate::yaml::{Pos, Positions};
use std::collections::HashMap;

/// A loaded file: its text (for snippets) and its nodes' positions.
#[derive(Debug)]
pub struct SourceFile {
    pub text: String,
    /// Kept from the one parse of the file (empty when it is not YAML).
    positions: Positions,
    /// The doc numbers of List items: their document and pointer prefix.
    items: HashMap<usize, ListItem>,
}

impl SourceFile {
    pub fn new(text: String, positions: Positions) -> Self {
        SourceFile {
            text,
            positions,
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
        match self.items.get(&doc) {
            Some(item) => self
                .positions
                .locate(item.doc, &format!("{}{pointer}", item.pointer)),
            None => self.positions.locate(doc, pointer),
        }
    }
}
