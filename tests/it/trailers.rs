//! The trailer parser, tested differentially against `git interpret-trailers --parse`.

use govops::trailers;

/// Messages that trip naive parsers: one file each in `fixtures/trailers/`.
fn corpus() -> Vec<(String, Vec<u8>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/trailers");
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    assert!(out.len() >= 30, "the corpus is in {}", dir.display());
    out
}

fn git_parse(message: &[u8], divider: bool) -> Vec<u8> {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = crate::repo::git_command(dir.path());
    cmd.args(["interpret-trailers", "--parse"]);
    if !divider {
        cmd.arg("--no-divider");
    }
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(message).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    out.stdout
}

fn ours(message: &[u8], divider: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for t in trailers::parse(message, divider).trailers {
        out.extend_from_slice(format!("{}: {}\n", t.key, t.value).as_bytes());
    }
    out
}

#[test]
fn agrees_with_git_interpret_trailers() {
    let mut disagreements = Vec::new();
    for (name, message) in corpus() {
        for divider in [true, false] {
            let expected = git_parse(&message, divider);
            let got = ours(&message, divider);
            // Non-UTF-8 bytes are decoded lossily by govops; compare the same way.
            if String::from_utf8_lossy(&expected) != String::from_utf8_lossy(&got) {
                disagreements.push(format!(
                    "{name} (divider {divider}):\n  git:    {:?}\n  govops: {:?}",
                    String::from_utf8_lossy(&expected),
                    String::from_utf8_lossy(&got)
                ));
            }
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}
