//! Embeds the built-in rules: every `.rego` and `.md` file under `rules/` becomes a
//! `(path, contents)` pair in `BUILTIN_RULES`, so the binary carries the
//! Rego, its tests and the rule docs; and the identity table as JSON
//! (`identities.json`), which every run reads:
//! parsing its YAML was a third of loading the policy in a commit-msg hook.

use std::fmt::Write;
use std::path::Path;

fn main() {
    // The manifest dir of this build, read when the script runs: `env!` would
    // bake in the path the script was compiled at, and cargo reuses a compiled
    // build script for a copy of the crate elsewhere (pre-commit's and
    // `cargo install`'s checkouts), which then embedded no rules at all.
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let root = Path::new(&manifest_dir);
    let mut files = Vec::new();
    collect(&root.join("rules"), root, &mut files);
    files.sort();
    // A binary without its rules would pass everything: refuse to build one.
    assert!(
        files.iter().any(|f| std::path::Path::new(f)
            .extension()
            .is_some_and(|e| e == "rego")),
        "no built-in rules under {}",
        root.join("rules").display()
    );
    let mut out = String::from("/// Every rule and rule document under `rules/`, by path relative to the crate root.\npub const BUILTIN_RULES: &[(&str, &str)] = &[\n");
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
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    std::fs::write(Path::new(&out_dir).join("builtin_rules.rs"), out).unwrap();
    let table = root.join("rules/ai/identities.yaml");
    let yaml =
        std::fs::read_to_string(&table).unwrap_or_else(|e| panic!("{}: {e}", table.display()));
    let json: serde_json::Value =
        serde_saphyr::from_str(&yaml).unwrap_or_else(|e| panic!("{}: {e}", table.display()));
    // Every value of the table is text. Read untyped, a plain `on`, `no`
    // or `1.0` would become a boolean or a number here, where the typed
    // reader it replaced kept the text, and every run would then fail to
    // read the table: refuse to build one.
    if let Some((at, value)) = not_text(&json, String::new()) {
        panic!(
            "{}: {at} is {value}, not text: quote it (the table's values are all text)",
            table.display()
        );
    }
    std::fs::write(
        Path::new(&out_dir).join("identities.json"),
        json.to_string(),
    )
    .unwrap();
    println!("cargo:rerun-if-changed=rules");
}

/// The first value of `json` that is neither text nor a list or map of
/// text, and where it is.
fn not_text(json: &serde_json::Value, at: String) -> Option<(String, String)> {
    match json {
        serde_json::Value::String(_) => None,
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| not_text(v, format!("{at}[{i}]"))),
        serde_json::Value::Object(map) => map
            .iter()
            .find_map(|(k, v)| not_text(v, format!("{at}.{k}"))),
        other => Some((at, other.to_string())),
    }
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
            Some("rego" | "md")
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
