//! The rule heads of compiled Rego: where in `data` each rule of each file
//! defines a value, read from regorus' parsed modules.
//!
//! What the gate judges follows from these paths, so they are read as Rego
//! reads them, not scanned from the text: an indented head, a package name
//! on the line after `package`, a ref head (`team.deny contains f if`) or a
//! quoted package segment (`govops.rules["team-a"]`) each once let a finding
//! set go unevaluated while the gate passed.

use regorus::unstable::{Expr, Rule, RuleHead};
use regorus::Engine;

/// One step of a rule's path in `data`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    /// A name known when the rule is compiled: `deny`, `"team-a"`.
    Name(String),
    /// A key computed when the rule is evaluated: the `msg` of `deny[msg]`.
    Computed,
}

/// How a rule defines its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `name contains x`, or Rego v0's `name[x] { ... }`: a set, grown by
    /// every body.
    Set,
    /// `name := x`, `name[k] := v`, `default name := x`.
    Value,
    /// `name(args) := x`: a function, never a document of its own.
    Function,
}

/// A rule head: the full path it defines (its package's, then its own), at
/// file:line.
#[derive(Debug, Clone)]
pub struct Head {
    pub path: Vec<Step>,
    /// How many of `path`'s steps are the package's.
    pub package_len: usize,
    pub kind: Kind,
    /// A value rule whose value is written as a scalar (`warn := "warn"`,
    /// or none: `x if { ... }` is `true`): it cannot hold findings.
    pub scalar: bool,
    pub file: String,
    /// Whether `file` is a test file (`*_test.rego`).
    pub in_test_file: bool,
    pub line: u32,
}

impl Head {
    /// The rule's own steps, after its package's.
    pub fn own(&self) -> &[Step] {
        &self.path[self.package_len..]
    }

    /// Whether this is a test as `opa test` runs them: a rule named `test_*`
    /// with a value of its own (not a function, no computed key).
    pub fn is_test_rule(&self) -> bool {
        self.kind == Kind::Value
            && matches!(self.path.last(), Some(Step::Name(n)) if n.starts_with("test_"))
    }

    /// Whether the rule defines something below `root` (a path of names).
    pub fn is_under(&self, root: &[&str]) -> bool {
        self.path.len() > root.len()
            && root
                .iter()
                .zip(&self.path)
                .all(|(r, s)| matches!(s, Step::Name(n) if n == r))
    }

    /// The package's name as it is written, for messages.
    pub fn package(&self) -> String {
        display(&self.path[..self.package_len])
    }
}

/// Every rule head of the modules compiled into `engine`, in file order.
/// A head whose path regorus accepted but this cannot read (it never
/// happens with the grammar of regorus 0.14) is an error, not a skip:
/// a rule left unread could be a finding set left unjudged.
pub fn heads(engine: &mut Engine) -> Result<Vec<Head>, String> {
    let mut out = Vec::new();
    for module in engine.get_modules().iter() {
        let file = module.package.span.source.file().clone();
        let mut package = Vec::new();
        steps(&module.package.refr, &mut package)
            .map_err(|why| format!("{file}: its package name {why}"))?;
        let in_test_file = crate::policy::is_test_file(&file);
        for rule in &module.policy {
            let (refr, kind, scalar, line) = match &**rule {
                Rule::Spec { head, span, .. } => match head {
                    // Rego v0's `name[x] { ... }` is a set too: regorus
                    // reads it as `name contains x`, the key out of the path.
                    RuleHead::Set { refr, .. } => (refr, Kind::Set, false, span.line),
                    RuleHead::Compr { refr, assign, .. } => (
                        refr,
                        Kind::Value,
                        assign.as_ref().is_none_or(|a| is_scalar(&a.value)),
                        span.line,
                    ),
                    RuleHead::Func { refr, .. } => (refr, Kind::Function, false, span.line),
                },
                Rule::Default {
                    refr, value, span, ..
                } => (refr, Kind::Value, is_scalar(value), span.line),
            };
            let mut path = package.clone();
            steps(refr, &mut path).map_err(|why| format!("{file}:{line}: a rule's name {why}"))?;
            out.push(Head {
                path,
                package_len: package.len(),
                kind,
                scalar,
                file: file.clone(),
                in_test_file,
                line,
            });
        }
    }
    Ok(out)
}

/// Whether an expression is a scalar written out: text, a number, a
/// boolean or null.
fn is_scalar(expr: &Expr) -> bool {
    matches!(
        expr,
        Expr::String { .. }
            | Expr::RawString { .. }
            | Expr::Number { .. }
            | Expr::Bool { .. }
            | Expr::Null { .. }
    )
}

/// The steps of a reference such as `a.b["c"][x]`, appended to `out`.
fn steps(refr: &Expr, out: &mut Vec<Step>) -> Result<(), String> {
    match refr {
        Expr::Var { span, .. } => out.push(Step::Name(span.text().to_string())),
        Expr::RefDot { refr, field, .. } => {
            steps(refr, out)?;
            out.push(Step::Name(field.0.text().to_string()));
        }
        Expr::RefBrack { refr, index, .. } => {
            steps(refr, out)?;
            out.push(match &**index {
                Expr::String { value, .. } | Expr::RawString { value, .. } => Step::Name(
                    value
                        .as_string()
                        .map_err(|e| format!("has a key that is not text: {e}"))?
                        .to_string(),
                ),
                _ => Step::Computed,
            });
        }
        other => return Err(format!("is not a reference: {other:?}")),
    }
    Ok(())
}

/// A path as Rego writes it: dotted names, quoted where a name is not an
/// identifier (`govops.rules["team-a"]`), `[_]` for a computed key. With
/// `data.` before it, a query for that document.
pub fn display(path: &[Step]) -> String {
    let mut out = String::new();
    for (i, step) in path.iter().enumerate() {
        match step {
            Step::Name(name) if is_identifier(name) => {
                if i > 0 {
                    out.push('.');
                }
                out.push_str(name);
            }
            Step::Name(name) => {
                out.push('[');
                out.push_str(&serde_json::Value::String(name.clone()).to_string());
                out.push(']');
            }
            Step::Computed => out.push_str("[_]"),
        }
    }
    out
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The names of the finding sets the gate judges, by severity.
pub const SETS: [&str; 3] = ["deny", "review", "warn"];

/// Where the finding sets are: every document under the root that has a
/// `deny`, `review` or `warn` (an "owner", most often a package), and each
/// set's definitions, to name a file and line in errors.
#[derive(Debug, Default)]
pub struct FindingSets {
    /// The owners' paths as Rego writes them (`govops.rules.team`), sorted,
    /// each once however many files define its sets.
    pub owners: Vec<String>,
    pub definitions: Vec<Definition>,
}

/// One definition of a finding set: `deny contains f if { ... }` at file:line.
#[derive(Debug)]
pub struct Definition {
    pub owner: String,
    pub set: &'static str,
    pub file: String,
    pub line: u32,
}

/// The finding sets among `heads`, or why a rule that looks like one could
/// never report: every way a rule can be written so that the gate would
/// pass without evaluating it stops the check instead, at its file and
/// line.
///
/// - a set under the root whose owner is computed (`a[x].deny`): the gate
///   asks for documents by name;
/// - a function named as a set (`deny(x) := ...`): never a document;
/// - a set defined from above the root (`package govops` with
///   `rules.team.deny`);
/// - a rule that may hold many values (a set, an object by computed keys,
///   a value that is not a scalar) named like a finding set
///   (`looks_like_set`: conftest's and Gatekeeper's `deny`, `warn`,
///   `violation`, `deny_*` ..., and near misses such as `Deny` or
///   `warnings`) in a package outside the root, as in conftest's
///   `package main` or a typo of the root's name, or under the root by any
///   name but the three;
/// - an owner too long for the query that asks for it.
///
/// Test files (`*_test.rego`) are compiled with the rules, as OPA's loader
/// reads a folder: a finding set under the root there is judged like any
/// other, and a test's helpers are not judged by their names (a function
/// named `deny`, `deny_cases` fixtures).
pub fn finding_sets(heads: &[Head], root: &[&str]) -> Result<FindingSets, String> {
    let mut found = FindingSets::default();
    for head in heads {
        match judge(head, root) {
            Ok(Some(definition)) => {
                found.owners.push(definition.owner.clone());
                found.definitions.push(definition);
            }
            Ok(None) => {}
            Err(e) => return Err(e),
        }
    }
    found.owners.sort();
    found.owners.dedup();
    Ok(found)
}

/// The finding set `head` defines, if it defines one the gate judges, or
/// why it would never report (`finding_sets`).
fn judge(head: &Head, root: &[&str]) -> Result<Option<Definition>, String> {
    let under_root = head.is_under(root);
    let rule = display(head.own());
    let at = format!("{}:{}", head.file, head.line);
    let misnamed = rule_name(head)
        .filter(|n| !head.in_test_file && looks_like_set_of(head, n))
        .map(str::to_string);
    if !under_root {
        return match misnamed {
            Some(name) => Err(format!(
                "{at}: package {} defines `{name}`, but only packages under {} are judged, so it could never report; nothing was judged. Name the package `{}.<name>` (in a helper library, name the set so that it does not read as a finding set)",
                head.package(),
                root.join("."),
                root.join("."),
            )),
            None => Ok(None),
        };
    }
    // The set is one of the rule's own steps (below the root): in a package
    // named `govops.rules.review`, `deny` is the set.
    let start = head.package_len.max(root.len());
    let set = head.path[start..]
        .iter()
        .position(|s| matches!(s, Step::Name(n) if SETS.contains(&n.as_str())))
        .map(|i| i + start);
    let Some(i) = set else {
        // A package named like a set (`govops.rules.deny` with `images
        // contains f`) reads as one; only a rule named like one is judged.
        let package_set = head.path[root.len()..start]
            .iter()
            .find_map(|s| match s {
                Step::Name(n) if looks_like_set(n) => Some(n.clone()),
                _ => None,
            })
            .filter(|_| !head.in_test_file && may_collect(head));
        return match (misnamed, package_set) {
            (Some(_), _) => Err(format!(
                "{at}: the rule `{rule}` of package {} looks like a finding set, but govops judges only the sets `deny`, `review` and `warn`, so it could never report; nothing was judged. Add its findings to one of those (a helper set may not be named like one)",
                head.package(),
            )),
            (None, Some(name)) => Err(format!(
                "{at}: package {} is named `{name}` like a finding set, but govops judges only the rules named `deny`, `review` and `warn`, so its set `{rule}` could never report; nothing was judged. Name the rule `deny`, `review` or `warn` (or the package otherwise)",
                head.package(),
            )),
            (None, None) => Ok(None),
        };
    };
    let set = SETS
        .into_iter()
        .find(|s| head.path[i] == Step::Name((*s).to_string()))
        .expect("found by name");
    if head.path[..i].contains(&Step::Computed) {
        return Err(format!(
            "{at}: the rule `{rule}` defines `{set}` under a key computed at evaluation, so the gate cannot ask for it and it could never report; nothing was judged. Define `{set}` in a package of its own"
        ));
    }
    if head.kind == Kind::Function {
        if head.in_test_file {
            // A test's helper, `deny(inp) := ... with input as inp`.
            return Ok(None);
        }
        return Err(format!(
            "{at}: the rule `{rule}` of package {} is a function, not a set of findings, so it could never report; nothing was judged. Declare it `{set} contains f if {{ ... }}`",
            head.package(),
        ));
    }
    if head.package_len < root.len() {
        // regorus 0.14 evaluates such a rule in some query orders and
        // not in others (`data.govops.rules.x` is undefined after two
        // other packages under the root): refused, not trusted.
        return Err(format!(
            "{at}: package {} defines `{set}` under {}, which the gate does not evaluate reliably; nothing was judged. Define it in a package under {} (`package {}.<name>`)",
            head.package(),
            root.join("."),
            root.join("."),
            root.join("."),
        ));
    }
    let owner = display(&head.path[..i]);
    if owner.len() > MAX_OWNER {
        return Err(format!(
            "{at}: the package name is {} characters long; the gate asks for each package's findings in one query line, which regorus limits to 1,024 characters. Use a name under {MAX_OWNER} characters",
            owner.len()
        ));
    }
    Ok(Some(Definition {
        owner,
        set,
        file: head.file.clone(),
        line: head.line,
    }))
}

/// The last name of a rule's own path before any computed key: `deny_x`
/// of `deny_x[msg]`.
fn rule_name(head: &Head) -> Option<&str> {
    head.own()
        .iter()
        .take_while(|s| **s != Step::Computed)
        .last()
        .and_then(|s| match s {
            Step::Name(n) => Some(n.as_str()),
            Step::Computed => None,
        })
}

/// Whether a rule named `name` reads as a finding set: a set (or an object
/// by computed keys) by `looks_like_set`; a value not written as a scalar
/// only by the set names themselves, in any case or form (`Deny`,
/// `warnings`): `deny_registries := {...}` and `review_paths := [...]` are
/// a team's settings.
fn looks_like_set_of(head: &Head, name: &str) -> bool {
    if is_partial(head) {
        looks_like_set(name)
    } else {
        may_collect(head) && is_set_name(name)
    }
}

/// The words finding sets are named by, here and in conftest and Gatekeeper.
const SET_WORDS: [&str; 4] = ["deny", "warn", "review", "violation"];

/// A finding set's own name in another case or form: `Deny`, `WARN`,
/// `warnings`, `denies`, `reviews`, `violations`.
fn is_set_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    matches!(lower.as_str(), "denies" | "denied" | "denial" | "denials")
        || SET_WORDS.iter().any(|base| {
            lower
                .strip_prefix(base)
                .is_some_and(|rest| matches!(rest, "" | "s" | "es" | "ing" | "ings"))
        })
}

/// Whether a rule collects many values by its bodies: a set, or an object
/// by computed keys (conftest's `deny[msg] if` in Rego v1).
fn is_partial(head: &Head) -> bool {
    head.kind == Kind::Set || head.own().contains(&Step::Computed)
}

/// Whether a rule may hold many values: a partial rule, or a value that is
/// not written as a scalar (`deny := {f | ...}`).
fn may_collect(head: &Head) -> bool {
    is_partial(head) || (head.kind == Kind::Value && !head.scalar)
}

/// The longest owner the query line of `Evaluator::finding_sets` has room
/// for (`[x | x := data.<owner>.review],` within 1,024 columns).
const MAX_OWNER: usize = 960;

/// Whether a name reads as a finding set's: conftest's and Gatekeeper's
/// (`deny`, `warn`, `violation`, `deny_privileged`), govops' own in another
/// case or form (`Deny`, `warnings`, `denyPrivileged`, `reviews`). Not
/// words that merely start the same (`denylist`, `reviewers`, `warned`).
fn looks_like_set(name: &str) -> bool {
    is_set_name(name)
        || SET_WORDS.iter().any(|base| {
            // `to_ascii_lowercase` keeps byte offsets: `rest` starts on a
            // character boundary.
            name.to_ascii_lowercase().starts_with(base) && {
                let rest = &name[base.len()..];
                rest.starts_with('_') || rest.starts_with(|c: char| c.is_ascii_uppercase())
            }
        })
}

#[cfg(test)]
mod tests {
    use super::{finding_sets, heads, FindingSets};

    /// The finding sets of one Rego file, or why it stops the gate.
    fn sets_of(rego: &str) -> Result<FindingSets, String> {
        sets_in("t.rego", rego)
    }

    /// `sets_of`, for a file named `name`.
    fn sets_in(name: &str, rego: &str) -> Result<FindingSets, String> {
        let mut engine = regorus::Engine::new();
        engine.set_rego_v0(false);
        engine
            .add_policy(name.into(), rego.into())
            .map_err(|e| format!("does not compile: {e}"))?;
        finding_sets(&heads(&mut engine)?, &["govops", "rules"])
    }

    fn owners(rego: &str) -> Vec<String> {
        match sets_of(rego) {
            Ok(sets) => sets.owners,
            Err(e) => panic!("{rego}: {e}"),
        }
    }

    const BODY: &str = "if { some m in input.manifests; m.name == \"x\"; f := m.name }";

    /// Every way of writing a finding set names the document the gate asks
    /// for, however the text is laid out.
    #[test]
    fn finding_sets_are_found_as_rego_reads_them() {
        for (rego, owner) in [
            (
                "package govops.rules.team\ndeny contains f {BODY}",
                "govops.rules.team",
            ),
            (
                "package govops.rules.team\n  \tdeny contains f {BODY}",
                "govops.rules.team",
            ),
            (
                "  package\n  govops.rules.team\nwarn contains f {BODY}",
                "govops.rules.team",
            ),
            (
                "package govops.rules\nteam.deny contains f {BODY}",
                "govops.rules.team",
            ),
            (
                "package govops.rules.team\nsub.review contains f {BODY}",
                "govops.rules.team.sub",
            ),
            (
                "package govops.rules[\"team-a\"]\ndeny contains f {BODY}",
                "govops.rules[\"team-a\"]",
            ),
            (
                "package govops.rules\ndeny contains f {BODY}",
                "govops.rules",
            ),
            // An object where a set belongs is found, to be refused by type.
            (
                "package govops.rules.team\ndeny[f] {BODY}",
                "govops.rules.team",
            ),
            (
                "package govops.rules.team\ndefault warn := {}",
                "govops.rules.team",
            ),
            // A package named like a set is a package like any other.
            (
                "package govops.rules.review\ndeny contains f {BODY}",
                "govops.rules.review",
            ),
            (
                "package govops.rules.warn.images\ndeny contains f {BODY}",
                "govops.rules.warn.images",
            ),
            // Conftest's value form under the root, by its exact name.
            (
                "package govops.rules.team\ndeny := {f | some m in input.manifests; f := m.name}",
                "govops.rules.team",
            ),
        ] {
            let rego = rego.replace("{BODY}", BODY);
            assert_eq!(owners(&rego), vec![owner.to_string()], "{rego}");
        }
        // Helpers, and rules that are no finding sets, are not asked for.
        for rego in [
            "package govops.rules.team\ndeny_threshold := 3\nwarned := 1",
            "package govops.rules.review\nmin_approvals := 2",
            // A team's settings named after a set's name.
            "package govops.rules.team\nreview_paths := [\"infra/**\"]\ndeny_registries := {\"docker.io\"}\ndeny_list := {\"a\"}\ndeny_message := sprintf(\"%s\", [\"x\"])",
            "package lib\nallowed := {\"a\"}\nreviewers contains x if { x := 1 }",
            // A helper library's functions, constants and values.
            "package lib\ndeny(msg) := {\"message\": msg}\nwarn := \"warn\"\nreview.min_approvals := 2",
            "package govops.rules.team\ndenylist contains x if { x := 1 }\nwarning_threshold := 3",
        ] {
            assert!(owners(rego).is_empty(), "{rego}");
        }
    }

    /// A test file is compiled with the rules: its finding sets under the
    /// root are judged like any other; nothing else in it is refused.
    #[test]
    fn a_test_file_is_policy_but_never_refused() {
        let rego = format!("package govops.rules.team\n\ntest_a if true\n  deny contains f {BODY}")
            .replace("{BODY}", BODY);
        assert_eq!(
            sets_in("team/t_test.rego", &rego).unwrap().owners,
            vec!["govops.rules.team".to_string()]
        );
        // A test, a test's helper function named `deny`, fixtures named
        // like sets, and a set outside the root: the last three stop the
        // gate in a rule file, never in a test file.
        for (text, in_rule_file) in [
            ("package govops.rules.team_test\ntest_a if { count(data.govops.rules.team.deny) == 0 }", true),
            ("package govops.rules.team_test\ndeny(inp) := d if { d := data.govops.rules.team.deny with input as inp }", false),
            ("package govops.rules.team_test\ndeny_cases contains {\"x\": 1} if true", false),
            ("package lib_test\ndeny contains 1 if true", false),
        ] {
            let sets = sets_in("team/T_TEST.rego", text).unwrap();
            assert!(sets.owners.is_empty(), "{text}");
            assert_eq!(sets_in("team/t.rego", text).is_ok(), in_rule_file, "{text}");
        }
    }

    /// Every rule that looks like a finding set but would never be asked
    /// for stops the gate at its file and line.
    #[test]
    fn a_finding_set_the_gate_would_not_ask_for_is_an_error() {
        for (rego, error) in [
            ("package main\n  deny contains f {BODY}", "t.rego:2: package main defines `deny`"),
            ("  package main\nwarn contains f {BODY}", "t.rego:2: package main defines `warn`"),
            ("package gov.rules.team\nreview contains f {BODY}", "package gov.rules.team defines `review`"),
            ("package main\nviolation[f] {BODY}", "package main defines `violation`"),
            ("package main\ndeny_privileged contains f {BODY}", "defines `deny_privileged`"),
            ("package govops.rules.team\ndeny_privileged contains f {BODY}", "t.rego:2: the rule `deny_privileged` of package govops.rules.team looks like a finding set"),
            ("package govops.rules.team\nwarn_x[f] {BODY}", "the rule `warn_x[_]`"),
            ("package govops.rules.team\nviolation contains f {BODY}", "the rule `violation`"),
            ("package govops.rules.team\nDeny contains f {BODY}", "the rule `Deny`"),
            ("package govops.rules.team\nwarnings contains f {BODY}", "the rule `warnings`"),
            ("package govops.rules.team\ndenyPrivileged contains f {BODY}", "the rule `denyPrivileged`"),
            ("package govops.rules.team\ndenies[f] {BODY}", "the rule `denies[_]`"),
            ("package main\nDENY contains f {BODY}", "package main defines `DENY`"),
            (&format!("package govops.rules.{}\ndeny contains f {{BODY}}", "t".repeat(960)), "t.rego:2: the package name is 973 characters long"),
            ("package govops.rules\na[x].deny contains f if { x := \"k\"; f := x }", "t.rego:2: the rule `a[_].deny` defines `deny` under a key computed"),
            ("package govops\nrules.team.deny contains f {BODY}", "t.rego:2: package govops defines `deny` under govops.rules, which the gate does not"),
            ("package govops.rules.team\ndeny(x) := x", "t.rego:2: the rule `deny` of package govops.rules.team is a function"),
            // The value form of a set, outside the root or by a near name.
            ("package main\ndeny := {f | some m in input.manifests; f := m.name}", "t.rego:2: package main defines `deny`"),
            ("package govops.rule.team\nwarn := [f | some m in input.manifests; f := m.name]", "package govops.rule.team defines `warn`"),
            ("package main\ndefault violation := set()", "package main defines `violation`"),
            ("package govops.rules.team\nwarnings := {f | some m in input.manifests; f := m.name}", "the rule `warnings`"),
            ("package govops.rules.team\nDeny := {f | some m in input.manifests; f := m.name}", "the rule `Deny`"),
            // A package named like a set holds sets named otherwise.
            ("package govops.rules.deny\nimages contains f {BODY}", "t.rego:2: package govops.rules.deny is named `deny` like a finding set"),
            ("package govops.rules.team.warn\nlatest := {f | some m in input.manifests; f := m.name}", "package govops.rules.team.warn is named `warn`"),
        ] {
            let rego = rego.replace("{BODY}", BODY);
            match sets_of(&rego) {
                Err(e) => assert!(e.contains(error), "{rego}: {e}"),
                Ok(sets) => panic!("{rego}: judged as {:?}", sets.owners),
            }
        }
    }
}
