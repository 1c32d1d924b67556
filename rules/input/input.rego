# Unreadable input: a file govops could not read is never passed unjudged.
package govops.rules.input

import rego.v1

deny contains f if {
	some e in input.errors
	f := {
		"id": "GOV-INPUT-001",
		"message": message(e),
		"file": file(e),
		"line": e.line,
		"column": e.column,
		"commit": object.get(e, "commit", null),
	}
}

message(e) := sprintf("%s: %s", [e.file, e.message]) if e.file != ""

message(e) := e.message if e.file == ""

file(e) := e.file if e.file != ""

file(e) := null if e.file == ""

# A skip the judged change granted itself: content the base judged that the
# head skips (a Chart.yaml above it, a rename into an excluded or
# non-manifest name, a link, a lost apiVersion/kind), or a link or
# submodule put into a manifest folder. Collection records each in
# input.skipped.unjudged; production content is denied, the rest reviewed.
production(u) if {
	some e in u.environments
	e in input.config.environments.production
}

review contains f if {
	some u in input.skipped.unjudged
	not production(u)
	f := {
		"id": "GOV-INPUT-002",
		"message": sprintf("%s: the change takes content out of judgement, a human must look", [u.message]),
		"file": u.path,
	}
}

deny contains f if {
	some u in input.skipped.unjudged
	production(u)
	f := {
		"id": "GOV-INPUT-003",
		"message": sprintf("%s: the change takes production content (%s) out of judgement", [u.message, concat(", ", u.environments)]),
		"file": u.path,
	}
}
