//! Embeds the built-in rules: every file under `rules/` becomes a
//! `(path, contents)` pair in `BUILTIN_RULES`, so the binary carries the
//! Rego, its tests, the rule docs and the identity table.

use std::fmt::Write;
use std::path::Path;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    collect(&root.join("rules"), root, &mut files);
    files.sort();
    let mut out = String::from("/// Every file under `rules/`, by path relative to the crate root.\npub const BUILTIN_RULES: &[(&str, &str)] = &[\n");
    for rel in &files {
        let abs = root.join(rel);
        writeln!(
            out,
            "    ({rel:?}, include_str!({:?})),",
            abs.display().to_string()
        )
        .unwrap();
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("builtin_rules.rs");
    std::fs::write(dest, out).unwrap();
    println!("cargo:rerun-if-changed=rules");
}

fn collect(dir: &Path, root: &Path, files: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        println!("cargo:rerun-if-changed={}", path.display());
        if path.is_dir() {
            collect(&path, root, files);
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("rego" | "md" | "yaml")
        ) {
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            files.push(rel);
        }
    }
}
