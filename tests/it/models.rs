//! Model deployments (issue #19, GOV-MODEL-*): every storage URI of an
//! InferenceService (and of configured kinds) from an approved registry on
//! a `/` boundary, a model card annotation; findings at the exact line.

use crate::repo::{lines_of, Repo};

const CONFIG: &str = "version: 1
models:
  enabled: true
  registries: ['s3://models', 'GS://team-bucket/approved/']
  kinds: {InferenceService: [], ModelMesh: ['/spec/source/*']}
";

pub(crate) const ISVC: &str = r#"apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: churn
  annotations:
    govops.dev/model-card: https://models.example.com/churn
spec:
  predictor:
    model:
      storageUri: s3://models/churn/v3
    sklearn:
      storageUri: s3://models-evil/churn
    containers:
      - name: kserve-container
        env:
          - {name: STORAGE_URI, value: "https://hub.example.com/x"}
          - name: OTHER
            value: x
  transformer:
    storageUris:
      - {uri: "gs://team-bucket/approved/tok", mountPath: /mnt/tok}
      - "S3://models/../evil/tok"
  explainer:
    containers:
      - name: e
        env:
          - name: STORAGE_URI
            valueFrom: {configMapKeyRef: {name: m, key: uri}}
---
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: nocard
spec:
  predictor:
    tensorflow:
      storageUri: s3://models
---
apiVersion: example.com/v1
kind: ModelMesh
metadata:
  name: mesh
  annotations: {govops.dev/model-card: card}
spec:
  source:
    weights: gs://team-bucket/approvedx/w
"#;

/// (id, line) of every GOV-MODEL finding, sorted.
fn model(report: &serde_json::Value) -> Vec<(String, u64)> {
    lines_of(report, "GOV-MODEL-", "deploy/model.yaml")
}

fn changed(config: &str) -> Repo {
    Repo::feature_adding(config, "deploy/model.yaml", ISVC)
}

#[test]
fn every_storage_uri_is_judged_on_a_registry_boundary() {
    let repo = changed(CONFIG);
    let (code, report) = repo.check_json(&["--base", "main"]);
    assert_eq!(code, 1, "{report:#}");
    let want: Vec<(String, u64)> = vec![
        // The older framework field, a prefix without its boundary.
        ("GOV-MODEL-001".into(), 12),
        // A STORAGE_URI env entry of the predictor's container.
        ("GOV-MODEL-001".into(), 16),
        // A storageUris entry that climbs out of the registry.
        ("GOV-MODEL-001".into(), 22),
        // A configured pointer of another kind, prefix without boundary.
        ("GOV-MODEL-001".into(), 46),
        // No model card annotation (at the object's metadata).
        ("GOV-MODEL-002".into(), 32),
        // The explainer's URI from a ConfigMap.
        ("GOV-MODEL-003".into(), 27),
    ];
    let mut want = want;
    want.sort();
    assert_eq!(model(&report), want, "{report:#}");
}

#[test]
fn model_rules_are_opt_in() {
    let repo = changed("version: 1\n");
    let (_, report) = repo.check_json(&["--base", "main"]);
    assert_eq!(model(&report), vec![], "{report:#}");
}
