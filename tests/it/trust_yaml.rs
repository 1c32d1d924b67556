//! Trust in YAML reading: the gate judges a manifest as Kubernetes reads it.
//! kubectl, Argo CD and Flux decode YAML with sigs.k8s.io/yaml (go-yaml v2,
//! YAML 1.1 rules); where a YAML 1.2 reading differs, the gate must either
//! read it the cluster's way or refuse the file (GOV-INPUT-001), never judge
//! a value the cluster does not get.

use crate::repo::{findings, ids, Repo};

/// A team rule: privileged containers and containers running as root are
/// denied. `privileged: yes` and `runAsUser: 0b0` must trip it.
const POLICY: &str = r#"package govops.rules.team
import rego.v1
deny contains f if {
  some m in input.manifests
  m.change != "deleted"
  some c in m.object.spec.template.spec.containers
  c.securityContext.privileged == true
  f := {"id": "TEAM-PRIV-001", "message": sprintf("%s runs a privileged container", [m.name]), "file": m.file}
}
deny contains f if {
  some m in input.manifests
  m.change != "deleted"
  some c in m.object.spec.template.spec.containers
  c.securityContext.runAsUser == 0
  f := {"id": "TEAM-ROOT-001", "message": sprintf("%s runs as root", [m.name]), "file": m.file}
}
"#;

fn team_repo() -> Repo {
    Repo::with_main(&[
        (".govops.yaml", "version: 1\npolicy: [policy]\n"),
        ("policy/team.rego", POLICY),
    ])
}

fn deployment(name: &str, security_context: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  labels: {{app.kubernetes.io/name: {name}, environment: dev, owner: team-a, cost-center: cc-1}}
spec:
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers:
      - {{name: app, image: nginx, securityContext: {security_context}}}
"
    )
}

fn names(report: &serde_json::Value, id: &str) -> Vec<String> {
    let mut v: Vec<String> = findings(report, id)
        .iter()
        .map(|f| f["file"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn yaml_1_1_booleans_and_tagged_scalars_are_judged_as_the_cluster_reads_them() {
    let repo = team_repo();
    // Each is `privileged: true` to kubectl; YAML 1.2 reads a string.
    let spellings = [
        ("yes", "yes"),
        ("on", "On"),
        ("y", "Y"),
        ("tagged", "!!bool \"true\""),
        ("tagged-yes", "!!bool 'yes'"),
    ];
    for (name, spelling) in spellings {
        repo.write(
            &format!("deploy/dev/{name}.yaml"),
            deployment(name, &format!("{{privileged: {spelling}}}")),
        );
    }
    // Each is `runAsUser: 0` to kubectl; YAML 1.2 reads a string.
    let zeros = [("bin", "0b0"), ("under", "0_0"), ("int", "!!int \"0\"")];
    for (name, zero) in zeros {
        repo.write(
            &format!("deploy/dev/root-{name}.yaml"),
            deployment(&format!("root-{name}"), &format!("{{runAsUser: {zero}}}")),
        );
    }
    // Strings to kubectl too: not privileged, not root.
    repo.write(
        "deploy/dev/quoted.yaml",
        deployment("quoted", "{privileged: \"yes\", runAsUser: 1000}"),
    );
    repo.commit("Add workloads");
    let (code, report) = repo.check_json(&[]);
    assert_eq!(code, 1, "{report:#}");
    let want: Vec<String> = spellings
        .iter()
        .map(|(n, _)| format!("deploy/dev/{n}.yaml"))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(names(&report, "TEAM-PRIV-001"), want, "{report:#}");
    let want: Vec<String> = zeros
        .iter()
        .map(|(n, _)| format!("deploy/dev/root-{n}.yaml"))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(names(&report, "TEAM-ROOT-001"), want, "{report:#}");
    assert!(findings(&report, "GOV-INPUT-001").is_empty(), "{report:#}");
}

#[test]
fn an_octal_like_number_is_the_octal_number() {
    // `runAsUser: 010` is 8 to kubectl, 10 to a YAML 1.2 reader.
    let repo = team_repo();
    repo.write("deploy/dev/api.yaml", deployment("api", "{runAsUser: 010}"));
    repo.commit("Add api");
    let dump = repo.govops(&["check", "--dump-input"]);
    let input: serde_json::Value = serde_json::from_str(&dump.stdout()).expect("dump is JSON");
    let c = &input["manifests"][0]["object"]["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["securityContext"]["runAsUser"], 8, "{input:#}");
}

#[test]
fn a_merge_key_after_an_explicit_key_is_a_finding_not_a_guess() {
    // go-yaml v2 applies `<<` in document order: the cluster gets a
    // ClusterRoleBinding where a YAML 1.2 reader sees a RoleBinding.
    let repo = team_repo();
    repo.write(
        "deploy/dev/rbac.yaml",
        "apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
<<: {kind: ClusterRoleBinding}
metadata: {name: web-reader, namespace: dev}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: ServiceAccount, name: default, namespace: dev}]
",
    );
    // Nested and through an alias in a list: the same.
    repo.write(
        "deploy/dev/api.yaml",
        "apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
x-safe: &safe {privileged: false}
x-priv: &priv {privileged: true}
spec:
  template:
    spec:
      containers:
      - name: app
        image: nginx
        securityContext:
          privileged: false
          <<: [*safe, *priv]
",
    );
    repo.commit("Add a rolebinding");
    let (code, report) = repo.check_json(&[]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(ids(&report), vec!["GOV-INPUT-001"; 2], "{report:#}");
    let rbac = findings(&report, "GOV-INPUT-001")
        .into_iter()
        .find(|f| f["file"] == "deploy/dev/rbac.yaml")
        .expect("rbac finding");
    assert_eq!(rbac["line"], 3, "{rbac}");
    let message = rbac["message"].as_str().unwrap();
    assert!(message.contains("key `kind`"), "{message}");
    assert!(message.contains("Kubernetes' takes the merge"), "{message}");
}

#[test]
fn an_override_after_the_merge_stays_valid() {
    // `<<: *base` then the key: the explicit key wins in every reader.
    let repo = team_repo();
    repo.write(
        "deploy/dev/api.yaml",
        "x-base: &base {privileged: true, runAsUser: 1000}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  labels: {app.kubernetes.io/name: api, environment: dev, owner: team-a, cost-center: cc-1}
spec:
  template:
    spec:
      containers:
      - name: app
        image: nginx
        securityContext:
          <<: *base
          privileged: false
",
    );
    repo.commit("Add api");
    let (code, report) = repo.check_json(&[]);
    assert_eq!(code, 0, "{report:#}");
}

#[test]
fn a_quoted_merge_key_is_a_literal_key() {
    // go-yaml merges only a plain `<<`: a quoted one is a key named `<<`,
    // which the API server drops. The labels are NOT merged in.
    let repo = Repo::gitops();
    repo.write(
        "deploy/dev/worker.yaml",
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker
  \"<<\": {labels: {app.kubernetes.io/name: worker, environment: dev, owner: team-a, cost-center: cc-100}}
spec:
  replicas: 1
",
    );
    repo.commit("Add a worker");
    let (code, report) = repo.check_json(&[]);
    assert_eq!(code, 1, "{report:#}");
    assert!(!findings(&report, "GOV-TAG-001").is_empty(), "{report:#}");
    assert!(findings(&report, "GOV-INPUT-001").is_empty(), "{report:#}");
}
