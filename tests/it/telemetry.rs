//! The OpenTelemetry contract (issue #19, GOV-OTEL-*): opt-in, per
//! container, findings at the exact env line (or the container / its env
//! list when the attribute is missing), and hostile env lists within bounds.

use crate::repo::{lines_of, Repo};

const CONFIG: &str = "version: 1\ntelemetry: {enabled: true}\n";

pub(crate) const DEPLOYMENT: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  labels:
    app.kubernetes.io/name: api
    environment: prod
    owner: team-a
    cost-center: cc-1
spec:
  template:
    metadata:
      labels:
        app.kubernetes.io/name: api
    spec:
      containers:
        - name: good
          env:
            - {name: OTEL_SERVICE_NAME, value: api}
            - {name: OTEL_RESOURCE_ATTRIBUTES, value: "team=a, deployment.environment.name = prod ,x=a=b"}
        - name: wrong
          env:
            - {name: OTEL_SERVICE_NAME, value: billing}
            - {name: OTEL_SERVICE_NAME, value: api}
            - {name: OTEL_RESOURCE_ATTRIBUTES, value: "deployment.environment.name=dev"}
        - name: missing
          env:
            - {name: LOG, value: info}
        - name: noenv
          image: x
        - name: ref
          env:
            - name: OTEL_SERVICE_NAME
              valueFrom: {fieldRef: {fieldPath: "metadata.labels['app.kubernetes.io/name']"}}
            - name: OTEL_RESOURCE_ATTRIBUTES
              valueFrom: {configMapKeyRef: {name: otel, key: attrs}}
        - name: conflict
          env:
            - {name: OTEL_SERVICE_NAME, value: api}
            - {name: OTEL_RESOURCE_ATTRIBUTES, value: "service.name=web,deployment.environment.name=pr%6Fd"}
"#;

/// (id, line) of every GOV-OTEL finding, sorted.
fn otel(report: &serde_json::Value) -> Vec<(String, u64)> {
    lines_of(report, "GOV-OTEL-", "deploy/api.yaml")
}

fn changed(config: &str, manifest: &str) -> Repo {
    Repo::feature_adding(config, "deploy/api.yaml", manifest)
}

#[test]
fn each_container_is_judged_at_its_env_lines() {
    let repo = changed(CONFIG, DEPLOYMENT);
    let (_, report) = repo.check_json(&["--base", "main"]);
    let want: Vec<(String, u64)> = [
        // wrong: the last OTEL_SERVICE_NAME (api) wins, as in the kubelet;
        // the environment says dev, the manifest's label prod.
        ("GOV-OTEL-002", 25),
        // missing: both attributes, at its env list.
        ("GOV-OTEL-001", 27),
        ("GOV-OTEL-001", 27),
        // noenv: both attributes, at the container.
        ("GOV-OTEL-001", 29),
        ("GOV-OTEL-001", 29),
        // ref: the name is read from the very label (agrees); the
        // attributes come from a ConfigMap: unknown, a review.
        ("GOV-OTEL-003", 35),
        // conflict: OTEL_SERVICE_NAME api, the attribute says web.
        ("GOV-OTEL-002", 40),
    ]
    .iter()
    .map(|(id, line)| (id.to_string(), *line))
    .collect::<std::collections::BTreeSet<_>>()
    .into_iter()
    .collect();
    let mut got = otel(&report);
    got.dedup();
    assert_eq!(got, want, "{report:#}");
}

#[test]
fn the_contract_is_opt_in() {
    let repo = changed("version: 1\n", DEPLOYMENT);
    let (_, report) = repo.check_json(&["--base", "main"]);
    assert_eq!(otel(&report), vec![], "{report:#}");
}

#[test]
fn ten_thousand_env_entries_are_judged_within_bounds() {
    let mut m = String::from(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: api\n  labels: {app.kubernetes.io/name: api, environment: prod}\nspec:\n  containers:\n    - name: c\n      env:\n",
    );
    for i in 0..10_000 {
        m.push_str(&format!("        - {{name: V{i}, value: x}}\n"));
    }
    m.push_str("        - {name: OTEL_SERVICE_NAME, value: web}\n");
    let repo = changed(CONFIG, &m);
    let (run, report) = repo.check_json_run(&["--base", "main"]);
    run.assert_bounded(20, 512);
    let got = otel(&report);
    assert!(
        got.contains(&("GOV-OTEL-002".to_string(), 10_010)),
        "{got:?}"
    );
    assert!(got.contains(&("GOV-OTEL-001".to_string(), 9)), "{got:?}");
}

/// Hostile spellings: a YAML alias of an env entry (judged, and located at
/// the anchor that holds the value), `$(VAR)` references and non-string
/// values (unknown: a review, not a pass), a fieldRef to another label.
#[test]
fn aliases_references_and_odd_values_are_not_silent() {
    let manifest = r#"apiVersion: v1
kind: Pod
metadata:
  name: api
  labels: {app.kubernetes.io/name: api, environment: prod, team: a}
spec:
  containers:
    - name: a
      env:
        - &svc {name: OTEL_SERVICE_NAME, value: web}
        - {name: OTEL_RESOURCE_ATTRIBUTES, value: "deployment.environment.name=$(ENV)"}
    - name: b
      env:
        - *svc
        - {name: OTEL_RESOURCE_ATTRIBUTES, value: 7}
    - name: c
      env:
        - name: OTEL_SERVICE_NAME
          valueFrom: {fieldRef: {fieldPath: "metadata.labels['team']"}}
        - {name: OTEL_RESOURCE_ATTRIBUTES, value: "deployment.environment.name=prod"}
"#;
    let repo = changed(CONFIG, manifest);
    let (_, report) = repo.check_json(&["--base", "main"]);
    let mut got = otel(&report);
    got.dedup();
    let want: Vec<(String, u64)> = vec![
        ("GOV-OTEL-002".into(), 10),
        ("GOV-OTEL-002".into(), 18),
        ("GOV-OTEL-003".into(), 11),
        ("GOV-OTEL-003".into(), 15),
    ];
    assert_eq!(got, want, "{report:#}");
}
