# Shared fixtures for the built-in rules' tests: a minimal input document
# with the default configuration (which `govops test` provides as
# data.govops.defaults.config, generated from the config model).
package govops.fixtures

import rego.v1

config := data.govops.defaults.config

human := {"name": "Ada", "email": "ada@example.com", "time": "2026-11-01T10:00:00Z"}

sha := "1111111111111111111111111111111111111111"

# Top-level keys of b replace those of a (object.union would merge them).
shallow(a, b) := {k: v |
	some k in {ka | some ka, _ in a} | {kb | some kb, _ in b}
	v := object.get(b, k, object.get(a, k, null))
}

commit(over) := shallow(
	{
		"sha": sha, "parents": [], "subject": "change", "body": "",
		"author": human, "committer": human, "trailers": [],
		"ai": {"assisted": false, "declared": null, "tools": []},
		"reviews": [], "signoffs": [], "files": [],
	},
	over,
)

tool(id, model) := {"tool": id, "model": model, "session": null, "evidence": []}

ai_commit(id, model, over) := commit(object.union({"ai": {"assisted": true, "declared": null, "tools": [tool(id, model)]}}, over))

file(path, lines) := {"path": path, "old_path": null, "status": "modified", "additions": lines, "deletions": 0, "binary": false}

labels := {
	"app.kubernetes.io/name": "api", "environment": "dev",
	"owner": "team-a", "cost-center": "cc-1",
}

# By default an object stays in one environment: `environments` and
# `previous_environment` follow an overridden `environment`.
manifest(over) := shallow(
	{
		"file": "deploy/app.yaml", "doc": 0, "apiVersion": "apps/v1", "kind": "Deployment",
		"name": "api", "namespace": null, "labels": labels, "annotations": {},
		"environment": env, "environments": [e | some e in [env]; e != null],
		"previous_environment": env, "change": "modified",
		"object": {"spec": {"template": {"spec": {"containers": [{"name": "api", "env": [{"name": "A", "value": "1"}]}]}}}},
		"previous": null, "previous_file": null,
	},
	over,
) if env := object.get(over, "environment", "dev")

doc(over) := shallow(
	{
		"schema": "govops.input/v1", "now": "2026-11-21T12:00:00Z", "mode": "range",
		"config": config,
		"policy": {"source": "base", "ref": sha, "digest": "sha256:0", "config_path": ".govops.yaml", "dirs": [], "files": []},
		"commits": [], "changes": {"files": [], "additions": 0, "deletions": 0},
		"manifests": [], "plans": [], "skipped": {"documents": 0, "helm_templates": 0, "symlinks": 0}, "errors": [],
	},
	over,
)

ids(set) := [f.id | some f in set]
