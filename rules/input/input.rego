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
