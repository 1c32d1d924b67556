//! The module layering ARCHITECTURE.md describes, checked: the shared nouns
//! depend on no stage, and no two top-level modules depend on each other
//! (directly or through others). A `use crate::…` that breaks it fails here,
//! naming the modules.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The nouns every stage shares; they may use only each other.
const NOUNS: &[&str] = &[
    "catalog",
    "clock",
    "config",
    "error",
    "finding",
    "input",
    "provenance",
    "repo_path",
    "shape",
    "source",
    "timing",
    "trailers",
    "yaml",
];

/// Top-level module -> the top-level modules its files name as `crate::X`.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for entry in walkdir::WalkDir::new(&src) {
        let entry = entry.unwrap();
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let rel = path.strip_prefix(&src).unwrap();
        let top = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        if matches!(top.as_str(), "lib" | "main" | "commands" | "cli") {
            continue; // the command layer orchestrates every stage
        }
        let text = std::fs::read_to_string(path).unwrap();
        // Test modules may reach anywhere.
        let text = text.split("#[cfg(test)]").next().unwrap();
        let deps = graph.entry(top.clone()).or_default();
        for (i, _) in text.match_indices("crate::") {
            let rest = &text[i + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() && name != top {
                deps.insert(name);
            }
        }
        // `use crate::{a, b::c}` groups.
        for (i, _) in text.match_indices("use crate::{") {
            let rest = &text[i + "use crate::{".len()..];
            let group = &rest[..rest.find("};").unwrap_or(0)];
            let mut depth = 0;
            let mut start = 0;
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        add(deps, &group[start..j], &top);
                        start = j + 1;
                    }
                    _ => {}
                }
            }
            add(deps, &group[start..], &top);
        }
    }
    graph
}

fn add(deps: &mut BTreeSet<String>, item: &str, top: &str) {
    let name: String = item
        .trim()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    if !name.is_empty() && name != top && name != "self" {
        deps.insert(name);
    }
}

#[test]
fn shared_nouns_depend_on_no_stage() {
    let graph = graph();
    let mut wrong = Vec::new();
    for noun in NOUNS {
        for dep in graph.get(*noun).into_iter().flatten() {
            if !NOUNS.contains(&dep.as_str()) {
                wrong.push(format!("{noun} -> {dep}"));
            }
        }
    }
    assert!(wrong.is_empty(), "nouns that depend on a stage: {wrong:?}");
}

#[test]
fn top_level_modules_have_no_cycle() {
    // Depth-first search for a back edge; report the cycle's path.
    fn visit<'a>(
        node: &'a str,
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|n| *n == node) {
            let mut cycle: Vec<String> = path[i..]
                .iter()
                .map(std::string::ToString::to_string)
                .collect();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if !done.insert(node) {
            return None;
        }
        path.push(node);
        for dep in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(dep, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        None
    }
    let graph = graph();
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        if let Some(cycle) = visit(node, &graph, &mut Vec::new(), &mut done) {
            panic!("module cycle: {}", cycle.join(" -> "));
        }
    }
}
