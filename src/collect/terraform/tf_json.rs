//! Positions of the `resource`, `data` and `module` blocks of a Terraform
//! JSON configuration file (`*.tf.json`), so that findings on resources
//! declared there point at their line. No JSON parser with positions is in
//! the dependency tree, so this is a small scanner: it builds a tree of the
//! file's objects with the byte offset of each key, then reads the
//! Terraform JSON syntax from it (a block type maps to an object, or to an
//! array of objects, at each level). A file it cannot read only loses
//! positions: findings then point at the plan.

/// Nesting deeper than this gives up (no positions): Terraform blocks sit
/// at depth 4 or so, and recursion must stay bounded on hostile files.
const MAX_DEPTH: usize = 128;

/// A declared block: (block type, labels, byte offset of its innermost
/// label's key, the `source` attribute for a module).
pub struct Block {
    pub kind: String,
    pub labels: Vec<String>,
    pub offset: usize,
    pub source: Option<String>,
}

enum J {
    /// Members in order: (key, offset of the key, value).
    Obj(Vec<(String, usize, J)>),
    Arr(Vec<J>),
    Str(String),
    Other,
}

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
}

impl Scanner<'_> {
    fn ws(&mut self) {
        while self.i < self.b.len() && matches!(self.b[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn string(&mut self) -> Option<String> {
        let start = self.i;
        self.i += 1;
        while self.i < self.b.len() {
            match self.b[self.i] {
                b'\\' => self.i += 2,
                b'"' => {
                    self.i += 1;
                    // serde_json decodes the escapes of the raw literal.
                    let raw = std::str::from_utf8(&self.b[start..self.i]).ok()?;
                    return serde_json::from_str(raw).ok();
                }
                _ => self.i += 1,
            }
        }
        None
    }

    fn value(&mut self, depth: usize) -> Option<J> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.ws();
        match *self.b.get(self.i)? {
            b'{' => {
                self.i += 1;
                let mut members = Vec::new();
                self.ws();
                if self.b.get(self.i) == Some(&b'}') {
                    self.i += 1;
                    return Some(J::Obj(members));
                }
                loop {
                    self.ws();
                    if self.b.get(self.i) != Some(&b'"') {
                        return None;
                    }
                    let at = self.i;
                    let key = self.string()?;
                    self.ws();
                    if self.b.get(self.i) != Some(&b':') {
                        return None;
                    }
                    self.i += 1;
                    let v = self.value(depth + 1)?;
                    members.push((key, at, v));
                    self.ws();
                    match self.b.get(self.i)? {
                        b',' => self.i += 1,
                        b'}' => {
                            self.i += 1;
                            return Some(J::Obj(members));
                        }
                        _ => return None,
                    }
                }
            }
            b'[' => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.b.get(self.i) == Some(&b']') {
                    self.i += 1;
                    return Some(J::Arr(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    self.ws();
                    match self.b.get(self.i)? {
                        b',' => self.i += 1,
                        b']' => {
                            self.i += 1;
                            return Some(J::Arr(items));
                        }
                        _ => return None,
                    }
                }
            }
            b'"' => self.string().map(J::Str),
            _ => {
                // A number, true, false or null: up to the next delimiter.
                let start = self.i;
                while self.i < self.b.len()
                    && !matches!(
                        self.b[self.i],
                        b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'
                    )
                {
                    self.i += 1;
                }
                (self.i > start).then_some(J::Other)
            }
        }
    }
}

/// The objects a level holds: the value itself, or each object of an array.
fn objects(v: &J) -> Vec<&Vec<(String, usize, J)>> {
    match v {
        J::Obj(m) => vec![m],
        J::Arr(items) => items
            .iter()
            .filter_map(|i| match i {
                J::Obj(m) => Some(m),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The blocks a `.tf.json` file declares, or None when it is not JSON.
pub fn blocks(text: &str) -> Option<Vec<Block>> {
    let mut s = Scanner {
        b: text.as_bytes(),
        i: 0,
    };
    let root = s.value(0)?;
    s.ws();
    if s.i != s.b.len() {
        return None;
    }
    let mut out = Vec::new();
    for top in objects(&root) {
        for (kind, _, v) in top {
            match kind.as_str() {
                "resource" | "data" => {
                    for types in objects(v) {
                        for (t, _, names) in types {
                            for named in objects(names) {
                                for (n, at, _) in named {
                                    out.push(Block {
                                        kind: kind.clone(),
                                        labels: vec![t.clone(), n.clone()],
                                        offset: *at,
                                        source: None,
                                    });
                                }
                            }
                        }
                    }
                }
                "module" => {
                    for named in objects(v) {
                        for (n, at, body) in named {
                            let source =
                                objects(body).into_iter().flatten().find_map(|(k, _, v)| {
                                    match (k.as_str(), v) {
                                        ("source", J::Str(s)) => Some(s.clone()),
                                        _ => None,
                                    }
                                });
                            out.push(Block {
                                kind: kind.clone(),
                                labels: vec![n.clone()],
                                offset: *at,
                                source,
                            });
                        }
                    }
                }
                _ => {}
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<(String, Vec<String>, usize)> {
        blocks(text)
            .unwrap()
            .into_iter()
            .map(|b| (b.kind, b.labels, text[..b.offset].matches('\n').count() + 1))
            .collect()
    }

    #[test]
    fn object_and_array_forms_are_located() {
        let text = "{\n \"resource\": {\n  \"aws_s3_bucket\": {\n   \"logs\": {\"bucket\": \"x\"}\n  },\n  \"aws_vpc\": [\n   {\"main\": [{\"cidr_block\": \"10.0.0.0/16\"}]}\n  ]\n },\n \"module\": {\"net\": {\"source\": \"./net\"}},\n \"data\": [{\"aws_ami\": {\"u\\u0062untu\": {}}}]\n}\n";
        assert_eq!(
            lines(text),
            vec![
                (
                    "resource".into(),
                    vec!["aws_s3_bucket".into(), "logs".into()],
                    4
                ),
                ("resource".into(), vec!["aws_vpc".into(), "main".into()], 7),
                ("module".into(), vec!["net".into()], 10),
                ("data".into(), vec!["aws_ami".into(), "ubuntu".into()], 11),
            ]
        );
        assert_eq!(blocks(text).unwrap()[2].source.as_deref(), Some("./net"));
    }

    #[test]
    fn broken_or_deep_files_have_no_positions() {
        assert!(blocks("{\"resource\": ").is_none());
        assert!(blocks("{} x").is_none());
        let deep = "[".repeat(100_000);
        assert!(blocks(&deep).is_none());
    }
}
