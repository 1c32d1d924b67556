package govops.rules.input_test

import data.govops.fixtures as fx
import data.govops.rules.input as rules
import rego.v1

test_input_001_file_error if {
	e := {"file": "deploy/bad.yaml", "line": 3, "column": 7, "message": "not valid YAML: oops"}
	fs := rules.deny with input as fx.doc({"errors": [e]})
	fx.ids(fs) == ["GOV-INPUT-001"]
	some f in fs
	f.line == 3
	f.file == "deploy/bad.yaml"
}

test_input_001_commit_error if {
	e := {"file": "", "line": null, "column": null, "commit": "2222222", "message": "too big"}
	some f in rules.deny with input as fx.doc({"errors": [e]})
	f.commit == "2222222"
	f.file == null
}

test_no_errors_no_findings if {
	count(rules.deny) == 0 with input as fx.doc({})
}

unjudged(envs) := {
	"path": "deploy/prod/templates/api.yaml", "old_path": "deploy/prod/api.yaml",
	"reason": "helm-template", "message": "deploy/prod/templates/api.yaml is now a Helm template",
	"environments": envs,
}

skipped(list) := {"documents": 0, "helm_templates": 1, "symlinks": 0, "gitlinks": 0, "excluded": 0, "files": [], "files_unlisted": 0, "unjudged": list}

test_input_002_review_outside_production if {
	fs := rules.review with input as fx.doc({"skipped": skipped([unjudged(["dev"])])})
	fx.ids(fs) == ["GOV-INPUT-002"]
	some f in fs
	f.file == "deploy/prod/templates/api.yaml"
	count(rules.deny) == 0 with input as fx.doc({"skipped": skipped([unjudged(["dev"])])})
}

test_input_002_review_without_environment if {
	fx.ids(rules.review) == ["GOV-INPUT-002"] with input as fx.doc({"skipped": skipped([unjudged([])])})
}

test_input_003_deny_in_production if {
	fs := rules.deny with input as fx.doc({"skipped": skipped([unjudged(["dev", "prod"])])})
	fx.ids(fs) == ["GOV-INPUT-003"]
	count(rules.review) == 0 with input as fx.doc({"skipped": skipped([unjudged(["prod"])])})
}

test_nothing_unjudged_no_findings if {
	count(rules.review) == 0 with input as fx.doc({"skipped": skipped([])})
}
