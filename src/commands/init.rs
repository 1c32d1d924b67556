//! `govops init` (a commented `.govops.yaml` with the defaults) and
//! `govops schema config|input|report`. Both come from the config model
//! itself: its `///` docs become the comments and the schema's descriptions.

use super::print;
use crate::cli::{Global, SchemaKind};
use crate::config::{self, Config};
use crate::error::{Error, Exit, Result};
use serde_json::Value;

/// The commented default config, generated from the config model.
pub fn default_config_text() -> String {
    let schema =
        serde_json::to_value(schemars::schema_for!(Config)).expect("the config schema is JSON");
    let defaults = serde_json::to_value(Config::default()).expect("the config converts to JSON");
    let mut out = String::from(
        "# govops configuration: the built-in defaults, each key explained.\n\
         # Reference: `govops schema config`; rules: `govops rules list`.\n\
         # In a pull request this file is read from the base branch: edits take effect once merged.\n",
    );
    write_object(&mut out, &schema, &schema, &defaults, 0);
    out
}

fn resolve<'a>(root: &'a Value, node: &'a Value) -> &'a Value {
    match node.get("$ref").and_then(Value::as_str) {
        Some(r) => r
            .strip_prefix("#/")
            .and_then(|p| root.pointer(&format!("/{p}")))
            .unwrap_or(node),
        None => node,
    }
}

fn write_object(out: &mut String, root: &Value, schema: &Value, value: &Value, depth: usize) {
    let schema = resolve(root, schema);
    let Some(map) = value.as_object() else { return };
    let indent = "  ".repeat(depth);
    for (key, v) in map {
        let prop = schema
            .pointer(&format!("/properties/{key}"))
            .unwrap_or(&Value::Null);
        let description = prop
            .get("description")
            .or_else(|| resolve(root, prop).get("description"))
            .and_then(Value::as_str)
            .unwrap_or("");
        if depth == 0 {
            out.push('\n');
        }
        for line in description.lines() {
            out.push_str(&format!("{indent}# {line}\n"));
        }
        match v {
            Value::Object(o)
                if !o.is_empty() && resolve(root, prop).get("properties").is_some() =>
            {
                out.push_str(&format!("{indent}{key}:\n"));
                write_object(out, root, prop, v, depth + 1);
            }
            _ => out.push_str(&format!(
                "{indent}{key}: {}\n",
                serde_json::to_string(v).expect("a JSON value serialises in memory")
            )),
        }
    }
}

pub fn init(global: &Global, force: bool) -> Result<Exit> {
    let repo = crate::collect::git::open(global.repo.as_deref())?;
    let root = crate::collect::git::root(&repo);
    let path = root.join(config::FILE_NAME);
    if path.exists() && !force {
        return Err(Error::Usage(format!(
            "{} exists; pass --force to overwrite it",
            path.display()
        )));
    }
    std::fs::write(&path, default_config_text()).map_err(|e| Error::io(path.display(), e))?;
    print(&format!(
        "wrote {}: the built-in defaults, commented.\n\nNext steps:\n  1. Adjust it (tags.required, environments, blast_radius) and commit it.\n  2. govops hook install          # check commit messages and pushes on this machine\n  3. govops check                 # judge your branch against its base now\n  4. Add the GitHub Action: see the README's CI section (checkout with fetch-depth: 0).\n",
        path.display()
    ))?;
    Ok(Exit::Pass)
}

pub fn schema(kind: SchemaKind) -> Result<Exit> {
    let schema = match kind {
        SchemaKind::Config => Ok(crate::config::json_schema().clone()),
        SchemaKind::Input => serde_json::to_value(schemars::schema_for!(crate::input::Input)),
        SchemaKind::Report => {
            serde_json::to_value(schemars::schema_for!(crate::render::JsonReportSchema))
        }
        SchemaKind::Stats => Ok(super::stats::schema()),
    }
    .map_err(|e| Error::Usage(e.to_string()))?;
    print(&format!(
        "{}\n",
        serde_json::to_string_pretty(&schema).expect("a JSON value serialises in memory")
    ))?;
    Ok(Exit::Pass)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_text_is_the_defaults_and_explains_every_key() {
        let text = default_config_text();
        let parsed =
            crate::config::ValidConfig::parse(text.clone().into_bytes(), "init".into()).unwrap();
        assert_eq!(
            serde_json::to_value(&parsed.config).unwrap(),
            serde_json::to_value(Config::default()).unwrap()
        );
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let key_line = !line.trim_start().starts_with('#')
                && line.contains(':')
                && !line.trim().is_empty();
            if key_line {
                assert!(
                    lines[i - 1].trim_start().starts_with('#'),
                    "no comment above {line:?}"
                );
            }
        }
    }
}
