package govops.rules.policy_test

import data.govops.fixtures as fx
import data.govops.rules.policy
import rego.v1

changes(path) := {"files": [object.union(fx.file(path, 1), {"status": "modified"})], "additions": 1, "deletions": 0}

test_policy_001_config_edit if {
	fs := policy.review with input as fx.doc({"changes": changes(".govops.yaml")})
	fx.ids(fs) == ["GOV-POLICY-001"]
	some f in fs
	contains(f.message, "base revision 1111111")
}

test_policy_001_rule_dir if {
	pol := object.union(fx.doc({}).policy, {"dirs": ["policy"]})
	fx.ids(policy.review) == ["GOV-POLICY-001"] with input as fx.doc({"policy": pol, "changes": changes("policy/team.rego")})
	count(policy.review) == 0 with input as fx.doc({"policy": pol, "changes": changes("policyx/team.rego")})
}

test_policy_001_baseline_file if {
	fs := policy.review with input as fx.doc({"changes": changes(".govops-baseline.json")})
	fx.ids(fs) == ["GOV-POLICY-001"]
	cfg := object.union(fx.config, {"baseline": "gov/baseline.json"})
	fx.ids(policy.review) == ["GOV-POLICY-001"] with input as fx.doc({"config": cfg, "changes": changes("gov/baseline.json")})
	count(policy.review) == 0 with input as fx.doc({"config": cfg, "changes": changes(".govops-baseline.json")})
}

test_policy_001_only_in_range_mode if {
	count(policy.review) == 0 with input as fx.doc({"mode": "staged", "changes": changes(".govops.yaml")})
}

test_policy_001_names_other_sources if {
	pol := object.union(fx.doc({}).policy, {"source": "file"})
	some f in policy.review with input as fx.doc({"policy": pol, "changes": changes(".govops.yaml")})
	contains(f.message, "from file")
}

test_other_files_pass if {
	count(policy.review) == 0 with input as fx.doc({"changes": changes("src/main.rs")})
}

test_policy_002_each_head_problem if {
	problems := [
		{"file": ".govops.yaml", "line": 3, "message": "tags.required: expected a list, found a string"},
		{"file": ".govops.yaml", "line": null, "message": "invalid Rego in policy/a.rego"},
	]
	pol := object.union(fx.doc({}).policy, {"head_problems": problems})
	fs := policy.deny with input as fx.doc({"policy": pol, "changes": changes(".govops.yaml")})
	count(fs) == 2
	some f in fs
	f.id == "GOV-POLICY-002"
	f.line == 3
	contains(f.message, "expected a list")
}

test_policy_002_none_without_problems if {
	count(policy.deny) == 0 with input as fx.doc({"changes": changes(".govops.yaml")})
}
