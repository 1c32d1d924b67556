package govops.rules.tags_test

import data.govops.fixtures as fx
import data.govops.rules.tags
import rego.v1

test_labelled_manifest_passes if {
	count(tags.deny) == 0 with input as fx.doc({"manifests": [fx.manifest({})]})
}

test_tag_001_missing_label_points_at_the_key if {
	m := fx.manifest({"labels": object.remove(fx.labels, ["owner"])})
	fs := tags.deny with input as fx.doc({"manifests": [m]})
	fx.ids(fs) == ["GOV-TAG-001"]
	some f in fs
	f.pointer == "/metadata/labels/owner"
	f.file == "deploy/app.yaml"
}

test_tag_001_escapes_slashes_in_keys if {
	m := fx.manifest({"labels": object.remove(fx.labels, ["app.kubernetes.io/name"])})
	some f in tags.deny with input as fx.doc({"manifests": [m]})
	f.pointer == "/metadata/labels/app.kubernetes.io~1name"
}

test_tag_001_ignores_other_kinds_and_deleted if {
	cm := fx.manifest({"kind": "ConfigMap", "labels": {}})
	gone := fx.manifest({"change": "deleted", "labels": {}})
	count(tags.deny) == 0 with input as fx.doc({"manifests": [cm, gone]})
}

test_tag_002_value_not_allowed if {
	m := fx.manifest({"labels": object.union(fx.labels, {"environment": "prd"})})
	fx.ids(tags.deny) == ["GOV-TAG-002"] with input as fx.doc({"manifests": [m]})
}

test_tag_002_pattern if {
	cfg := object.union(fx.config, {"tags": {"allowed": {"cost-center": {"pattern": "cc-[0-9]+"}}}})
	bad := fx.manifest({"labels": object.union(fx.labels, {"cost-center": "marketing"})})
	fx.ids(tags.deny) == ["GOV-TAG-002"] with input as fx.doc({"config": cfg, "manifests": [bad]})
	count(tags.deny) == 0 with input as fx.doc({"config": cfg, "manifests": [fx.manifest({})]})
}

env_cfg := object.union(fx.config, {"tags": {"env_vars": ["OTEL_SERVICE_NAME"]}})

test_tag_003_container_lacks_env_var if {
	fs := tags.deny with input as fx.doc({"config": env_cfg, "manifests": [fx.manifest({})]})
	fx.ids(fs) == ["GOV-TAG-003"]
	some f in fs
	f.pointer == "/spec/template/spec/containers/0/env"
}

test_tag_003_declared_passes if {
	obj := {"spec": {"template": {"spec": {"containers": [{"name": "api", "env": [{"name": "OTEL_SERVICE_NAME", "value": "api"}]}]}}}}
	count(tags.deny) == 0 with input as fx.doc({"config": env_cfg, "manifests": [fx.manifest({"object": obj})]})
}

test_tag_003_pods_and_cronjobs if {
	pod := fx.manifest({"kind": "Pod", "object": {"spec": {"containers": [{"name": "a"}]}}})
	cron := fx.manifest({"kind": "CronJob", "object": {"spec": {"jobTemplate": {"spec": {"template": {"spec": {"initContainers": [{"name": "b"}]}}}}}}})
	fs := tags.deny with input as fx.doc({"config": env_cfg, "manifests": [pod, cron]})
	{f.pointer | some f in fs} == {"/spec/containers/0/env", "/spec/jobTemplate/spec/template/spec/initContainers/0/env"}
}

test_unnamed_object if {
	m := fx.manifest({"name": null, "labels": {}})
	some f in tags.deny with input as fx.doc({"manifests": [m]})
	contains(f.message, "(unnamed)")
}
