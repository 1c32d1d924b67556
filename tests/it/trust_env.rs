//! Trust in an object's environment: a pull request must not take an object
//! out of production unseen. Its environments are all those it is
//! associated with, at head and at base (label, annotation, path), and a
//! moved object is a change. Built from the attack repros A (relabel), B (a
//! label against the production folder) and C (a move out of deploy/prod/).

use crate::repo::{deployment, findings, ids, Repo};

/// Production by folder, dev by folder: what an Argo CD layout declares.
const PATHS: &str =
    "version: 1\nenvironments:\n  paths: {prod: [\"deploy/prod/**\"], dev: [\"deploy/dev/**\"]}\n";

/// A NetworkPolicy with no environment label: its folder is its environment.
const NETPOL: &str = "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: deny-all-ingress
  namespace: prod
spec:
  podSelector: {}
  policyTypes: [Ingress]
  ingress: []
  egress:
    - to:
        - namespaceSelector: {matchLabels: {team: a}}
        - namespaceSelector: {matchLabels: {team: b}}
        - namespaceSelector: {matchLabels: {team: c}}
";

fn blast_003(report: &serde_json::Value) -> Vec<String> {
    findings(report, "GOV-BLAST-003")
        .iter()
        .map(|f| f["message"].as_str().unwrap().to_string())
        .collect()
}

/// Attack A: the change that swaps the image also relabels the object dev.
#[test]
fn a_relabel_out_of_production_is_a_production_change() {
    let repo = Repo::gitops();
    repo.write(
        "deploy/prod/api.yaml",
        deployment("api", "prod")
            .replace("environment: prod", "environment: dev")
            .replace(
                "registry.example.com/api:1.0.0",
                "evil.example/miner:latest",
            ),
    );
    repo.commit("Tidy labels");
    let (code, report) = repo.check_json(&[]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(
        blast_003(&report),
        vec!["this change modifies Deployment api and takes it out of production (prod -> dev)"],
        "{report:#}"
    );
    // It reaches both environments.
    assert!(ids(&report).contains(&"GOV-BLAST-004".to_string()));
}

/// A sibling of A: the label is dropped, and the annotation that says
/// production goes with it.
#[test]
fn dropping_the_environment_annotation_is_a_production_change() {
    let with = deployment("api", "prod").replace(
        "    environment: prod\n",
        "    owner2: x\n  annotations:\n    environment: prod\n",
    );
    let repo = Repo::with_main(&[("deploy/api.yaml", &with)]);
    repo.write(
        "deploy/api.yaml",
        with.replace("  annotations:\n    environment: prod\n", "")
            .replace("replicas: 1", "replicas: 9"),
    );
    repo.commit("Scale");
    let (code, report) = repo.check_json(&[]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(
        blast_003(&report),
        vec!["this change modifies Deployment api and takes it out of production (prod -> none)"],
        "{report:#}"
    );
}

/// Attack B: a new object labelled dev in the folder Argo CD syncs to prod.
#[test]
fn a_label_cannot_take_an_object_out_of_its_production_folder() {
    let repo = Repo::with_main(&[(".govops.yaml", PATHS)]);
    repo.write("deploy/prod/api.yaml", deployment("api", "dev"));
    repo.commit("Add api");
    let (code, report) = repo.check_json(&[]);
    assert_eq!(code, 1, "{report:#}");
    let messages = blast_003(&report);
    assert_eq!(messages.len(), 1, "{report:#}");
    assert!(
        messages[0].contains("adds Deployment api, which is in production")
            && messages[0].contains("(dev, prod), though its environment is dev"),
        "{messages:?}"
    );
    // The one environment scripts read stays the label's.
    let input: serde_json::Value =
        serde_json::from_str(&repo.govops(&["check", "--dump-input"]).stdout()).unwrap();
    let m = &input["manifests"][0];
    assert_eq!(m["environment"], "dev");
    assert_eq!(m["environments"], serde_json::json!(["dev", "prod"]));
}

/// A sibling of B: the file name matches an earlier, non-production glob;
/// the production folder still claims it.
#[test]
fn an_earlier_glob_cannot_take_a_file_out_of_its_production_folder() {
    let repo = Repo::with_main(&[(
        ".govops.yaml",
        "version: 1\nenvironments:\n  paths: {dev: [\"**/*-dev.yaml\"], prod: [\"deploy/prod/**\"]}\n",
    )]);
    let unlabelled = deployment("api", "prod").replace("    environment: prod\n", "");
    repo.write("deploy/prod/api-dev.yaml", &unlabelled);
    repo.commit("Add api");
    let (code, report) = repo.check_json(&[]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(blast_003(&report).len(), 1, "{report:#}");
}

/// Attack C: `git mv deploy/prod/x deploy/dev/x`, content unchanged: Argo
/// CD's prod application prunes the object.
#[test]
fn moving_a_manifest_out_of_a_production_folder_is_a_production_change() {
    let repo = Repo::with_main(&[(".govops.yaml", PATHS), ("deploy/prod/netpol.yaml", NETPOL)]);
    std::fs::create_dir_all(repo.path().join("deploy/dev")).unwrap();
    repo.git(&["mv", "deploy/prod/netpol.yaml", "deploy/dev/netpol.yaml"]);
    repo.commit("Reorganise");
    let (code, report) = repo.check_json(&[]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(
        blast_003(&report),
        vec!["this change moves NetworkPolicy deny-all-ingress from deploy/prod/netpol.yaml to deploy/dev/netpol.yaml and takes it out of production (prod -> dev)"],
        "{report:#}"
    );
    let f = &findings(&report, "GOV-BLAST-003")[0];
    assert_eq!(f["file"], "deploy/dev/netpol.yaml");
}

/// A sibling of C: the move also renames the object, so the old one is
/// deleted, and it was deleted from the old folder, not the new one.
#[test]
fn an_object_deleted_in_a_moved_file_is_judged_by_its_old_folder() {
    let repo = Repo::with_main(&[(".govops.yaml", PATHS), ("deploy/prod/netpol.yaml", NETPOL)]);
    repo.remove("deploy/prod/netpol.yaml");
    repo.write(
        "deploy/dev/netpol.yaml",
        NETPOL.replace("name: deny-all-ingress", "name: deny-all"),
    );
    repo.commit("Reorganise");
    // git sees a rename (the content is mostly the same).
    let status = repo.git(&["diff", "--name-status", "-M", "main", "feature"]);
    assert!(status.starts_with('R'), "{status}");
    let (code, report) = repo.check_json(&[]);
    assert_eq!(code, 1, "{report:#}");
    let messages = blast_003(&report);
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("this change deletes NetworkPolicy deny-all-ingress")),
        "{messages:?}"
    );
}

/// A sibling in another rule: a production-folder file labelled dev,
/// renamed to a name the gate skips, takes production content out of
/// judgement (GOV-INPUT-003, deny), not only some content (002).
#[test]
fn a_label_cannot_lower_what_a_skipped_file_took_out_of_judgement() {
    let repo = Repo::with_main(&[
        (".govops.yaml", PATHS),
        ("deploy/prod/api.yaml", &deployment("api", "dev")),
    ]);
    std::fs::create_dir_all(repo.path().join(".github")).unwrap();
    repo.git(&["mv", "deploy/prod/api.yaml", ".github/api.yaml"]);
    repo.commit("Park it");
    let (code, report) = repo.check_json(&[]);
    assert_eq!(code, 1, "{report:#}");
    assert!(
        ids(&report).contains(&"GOV-INPUT-003".to_string()),
        "{report:#}"
    );
}

/// No false alarm: a move inside dev, and a relabel within dev, are not
/// production changes.
#[test]
fn moves_and_labels_outside_production_stay_quiet() {
    let repo = Repo::gitops();
    repo.git(&["mv", "deploy/dev/api.yaml", "deploy/dev/api-v2.yaml"]);
    repo.commit("Rename the file");
    let (code, report) = repo.check_json(&[]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(ids(&report), Vec::<String>::new());
    let input: serde_json::Value =
        serde_json::from_str(&repo.govops(&["check", "--dump-input"]).stdout()).unwrap();
    let m = &input["manifests"][0];
    assert_eq!(m["change"], "modified");
    assert_eq!(m["previous_file"], "deploy/dev/api.yaml");
}
