package govops.rules.ai_test

import data.govops.fixtures as fx
import data.govops.rules.ai
import rego.v1

test_human_commits_pass if {
	count(ai.deny) == 0 with input as fx.doc({"commits": [fx.commit({})]})
}

test_ai_001_fires_without_model if {
	fs := ai.deny with input as fx.doc({"commits": [fx.ai_commit("cursor", null, {})]})
	fx.ids(fs) == ["GOV-AI-001"]
	some f in fs
	f.commit == fx.sha
	contains(f.message, "model")
}

test_ai_001_quiet_with_tool_and_model if {
	count(ai.deny) == 0 with input as fx.doc({"commits": [fx.ai_commit("claude-code", "Claude Opus 4.6", {})]})
}

test_ai_001_declared_without_tool if {
	c := fx.commit({"ai": {"assisted": true, "declared": "yes", "tools": []}})
	fs := ai.deny with input as fx.doc({"commits": [c]})
	count(fs) == 2 # tool and model
}

test_ai_001_unknown_tool_lacks_tool if {
	c := fx.ai_commit("unknown", "gpt-5", {})
	fx.ids(ai.deny) == ["GOV-AI-001"] with input as fx.doc({"commits": [c]})
}

test_ai_001_session_when_required if {
	cfg := object.union(fx.config, {"ai": {"require": ["session"]}})
	fx.ids(ai.deny) == ["GOV-AI-001"] with input as fx.doc({"config": cfg, "commits": [fx.ai_commit("amp", "x", {})]})
}

blocked_cfg := object.union(fx.config, {"ai": {"blocked": [{"tool": "copilot", "model": "gpt-3.5*", "since": "2026-06-01", "reason": "SEC-42"}]}})

test_ai_002_blocked_model_after_since if {
	c := fx.ai_commit("copilot", "gpt-3.5-turbo", {})
	fs := ai.deny with input as fx.doc({"config": blocked_cfg, "commits": [c]})
	fx.ids(fs) == ["GOV-AI-002"]
	some f in fs
	contains(f.message, "SEC-42")
}

test_ai_002_before_since_passes if {
	old := object.union(fx.human, {"time": "2026-05-31T23:00:00Z"})
	c := fx.ai_commit("copilot", "gpt-3.5-turbo", {"committer": old})
	count(ai.deny) == 0 with input as fx.doc({"config": blocked_cfg, "commits": [c]})
}

test_ai_002_other_model_passes if {
	c := fx.ai_commit("copilot", "gpt-5", {})
	count(ai.deny) == 0 with input as fx.doc({"config": blocked_cfg, "commits": [c]})
}

test_ai_002_whole_tool_with_rfc3339_since if {
	cfg := object.union(fx.config, {"ai": {"blocked": [{"tool": "cursor", "since": "2026-01-01T00:00:00Z", "reason": "licence"}]}})
	c := fx.ai_commit("cursor", "gpt-5", {})
	fx.ids(ai.deny) == ["GOV-AI-002"] with input as fx.doc({"config": cfg, "commits": [c]})
}

test_ai_002_no_since_blocks_all if {
	cfg := object.union(fx.config, {"ai": {"blocked": [{"tool": "cursor", "reason": "licence"}]}})
	fx.ids(ai.deny) == ["GOV-AI-002"] with input as fx.doc({"config": cfg, "commits": [fx.ai_commit("cursor", "m", {})]})
}

test_ai_003_outside_allowed if {
	cfg := object.union(fx.config, {"ai": {"allowed": ["claude-*", "copilot"]}})
	fx.ids(ai.deny) == ["GOV-AI-003"] with input as fx.doc({"config": cfg, "commits": [fx.ai_commit("cursor", "m", {})]})
	count(ai.deny) == 0 with input as fx.doc({"config": cfg, "commits": [fx.ai_commit("claude-code", "m", {})]})
}

test_ai_004_requires_declaration if {
	cfg := object.union(fx.config, {"ai": {"require_declaration": true}})
	fx.ids(ai.deny) == ["GOV-AI-004"] with input as fx.doc({"config": cfg, "commits": [fx.commit({})]})
	declared := fx.commit({"ai": {"assisted": false, "declared": "no", "tools": []}})
	count(ai.deny) == 0 with input as fx.doc({"config": cfg, "commits": [declared]})
}

test_ai_005_ai_signoff if {
	c := fx.commit({"signoffs": [{"key": "Signed-off-by", "name": "Claude", "email": "noreply@anthropic.com", "tool": "claude-code"}]})
	fx.ids(ai.deny) == ["GOV-AI-005"] with input as fx.doc({"commits": [c]})
	h := fx.commit({"signoffs": [{"key": "Signed-off-by", "name": "Ada", "email": "ada@example.com", "tool": null}]})
	count(ai.deny) == 0 with input as fx.doc({"commits": [h]})
}

test_pending_commit_is_named if {
	c := fx.ai_commit("cursor", null, {"sha": null})
	some f in ai.deny with input as fx.doc({"mode": "commit-msg", "commits": [c]})
	contains(f.message, "(pending)")
}

test_ai_001_says_how_each_tool_records_its_model if {
	fs := ai.deny with input as fx.doc({"commits": [fx.ai_commit("crush", null, {})]})
	some f in fs
	contains(f.message, "Assisted-by: Crush:MODEL")
	contains(f.message, "AI-Model: MODEL")
}

test_ai_002_checks_every_model if {
	c := fx.ai_commit("copilot", "gpt-5", {})
	t := object.union(c.ai.tools[0], {"models": ["gpt-5", "gpt-3.5-turbo"]})
	c2 := object.union(c, {"ai": {"assisted": true, "declared": null, "tools": [t]}})
	"GOV-AI-002" in fx.ids(ai.deny) with input as fx.doc({"config": blocked_cfg, "commits": [c2]})
}

line_cfg := object.union(fx.config, {"ai": {"require_line_provenance": ["services/payments/**"]}})

with_lines(c) := object.union(c, {"ai": {"lines": {"ai": 3, "by_tool": {"cursor": 3}, "sources": ["agent-trace"]}}})

test_ai_006_off_by_default if {
	c := fx.ai_commit("cursor", "m", {"files": [fx.file("services/payments/a.go", 3)]})
	count(ai.deny) == 0 with input as fx.doc({"commits": [c]})
}

test_ai_006_fires_without_line_records if {
	c := fx.ai_commit("cursor", "m", {"files": [fx.file("services/payments/a.go", 3), fx.file("docs/x.md", 1)]})
	fs := ai.deny with input as fx.doc({"config": line_cfg, "commits": [c]})
	fx.ids(fs) == ["GOV-AI-006"]
	some f in fs
	f.file == "services/payments/a.go"
	f.commit == fx.sha
}

test_ai_006_renamed_out_of_the_path if {
	moved := object.union(fx.file("attic/a.go", 0), {"status": "renamed", "old_path": "services/payments/a.go"})
	c := fx.ai_commit("cursor", "m", {"files": [moved]})
	fx.ids(ai.deny) == ["GOV-AI-006"] with input as fx.doc({"config": line_cfg, "commits": [c]})
}

test_ai_006_quiet_with_line_records_elsewhere_or_for_humans if {
	lined := with_lines(fx.ai_commit("cursor", "m", {"files": [fx.file("services/payments/a.go", 3)]}))
	count(ai.deny) == 0 with input as fx.doc({"config": line_cfg, "commits": [lined]})
	other := fx.ai_commit("cursor", "m", {"files": [fx.file("src/a.go", 3)]})
	count(ai.deny) == 0 with input as fx.doc({"config": line_cfg, "commits": [other]})
	human := fx.commit({"files": [fx.file("services/payments/a.go", 3)]})
	count(ai.deny) == 0 with input as fx.doc({"config": line_cfg, "commits": [human]})
}

test_ai_006_null_lines_are_no_records if {
	c := object.union(fx.ai_commit("cursor", "m", {"files": [fx.file("services/payments/a.go", 3)]}), {"ai": {"lines": null}})
	fx.ids(ai.deny) == ["GOV-AI-006"] with input as fx.doc({"config": line_cfg, "commits": [c]})
}
