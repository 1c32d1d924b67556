# Policy changes: a range that edits the config, a rule dir or the baseline
# file was judged by the policy from its base; a human must look at the edit
# itself (a baseline edit can accept findings for good).
package govops.rules.policy

import rego.v1

policy_path(path) if path == input.policy.config_path

policy_path(path) if path == object.get(input.config, "baseline", null)

policy_path(path) if {
	some dir in input.policy.dirs
	startswith(path, sprintf("%s/", [dir]))
}

review contains f if {
	input.mode == "range"
	some file in input.changes.files
	some path in {file.path, object.get(file, "old_path", file.path)}
	path != null
	policy_path(path)
	f := {
		"id": "GOV-POLICY-001",
		"message": sprintf("this change edits the policy (%s %s); it was judged by the policy from %s, so the edit takes effect only after it is merged", [path, file.status, source]),
		"file": path,
	}
}

source := sprintf("the base revision %s", [substring(input.policy.ref, 0, 7)]) if input.policy.source == "base"

source := input.policy.source if input.policy.source != "base"

# The policy as the change leaves it must load and compile: merging an
# invalid config or rule would stop the gate for every later change.
deny contains f if {
	input.mode == "range"
	some p in object.get(input.policy, "head_problems", [])
	f := {
		"id": "GOV-POLICY-002",
		"message": sprintf("this change leaves the policy invalid: %s: %s", [p.file, p.message]),
		"file": p.file,
		"line": p.line,
	}
}
