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
