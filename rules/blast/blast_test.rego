package govops.rules.blast_test

import data.govops.fixtures as fx
import data.govops.rules.blast
import rego.v1

test_quiet_on_small_human_change if {
	c := fx.commit({"files": [fx.file(".github/workflows/ci.yml", 3)]})
	count(blast.review) == 0 with input as fx.doc({"commits": [c], "manifests": [fx.manifest({})]})
}

test_blast_001_ai_touches_protected_path if {
	c := fx.ai_commit("copilot", "m", {"files": [fx.file(".github/workflows/ci.yml", 3), fx.file("src/a.rs", 1)]})
	fs := blast.review with input as fx.doc({"commits": [c]})
	fx.ids(fs) == ["GOV-BLAST-001"]
	some f in fs
	f.file == ".github/workflows/ci.yml"
}

test_blast_001_rego_anywhere if {
	c := fx.ai_commit("copilot", "m", {"files": [fx.file("policy/team/rule.rego", 3)]})
	fx.ids(blast.review) == ["GOV-BLAST-001"] with input as fx.doc({"commits": [c]})
}

test_blast_002_ai_commit_too_big if {
	files := [fx.file(sprintf("src/f%d.rs", [i]), 1) | some i in numbers.range(1, 26)]
	c := fx.ai_commit("copilot", "m", {"files": files})
	fx.ids(blast.review) == ["GOV-BLAST-002"] with input as fx.doc({"commits": [c]})
}

test_blast_002_lines_leave_out_lock_files if {
	c := fx.ai_commit("copilot", "m", {"files": [fx.file("Cargo.lock", 5000), fx.file("src/a.rs", 10)]})
	count(blast.review) == 0 with input as fx.doc({"commits": [c]})
	big := fx.ai_commit("copilot", "m", {"files": [fx.file("src/a.rs", 801)]})
	fx.ids(blast.review) == ["GOV-BLAST-002"] with input as fx.doc({"commits": [big]})
}

test_blast_002_range_limits if {
	cfg := object.union(fx.config, {"blast_radius": {"max_files": 1, "max_lines": 10}})
	changes := {"files": [fx.file("a", 6), fx.file("b", 6)], "additions": 12, "deletions": 0}
	fs := blast.review with input as fx.doc({"config": cfg, "changes": changes})
	fx.ids(fs) == ["GOV-BLAST-002", "GOV-BLAST-002"]
}

test_blast_003_production_change if {
	prod := fx.manifest({"environment": "prod"})
	fs := blast.review with input as fx.doc({"manifests": [prod]})
	fx.ids(fs) == ["GOV-BLAST-003"]
	some f in fs
	f.pointer == ""
	unchanged := fx.manifest({"environment": "prod", "change": "unchanged"})
	count(blast.review) == 0 with input as fx.doc({"manifests": [unchanged]})
}

test_blast_003_deleted_has_no_pointer if {
	gone := fx.manifest({"environment": "production", "change": "deleted"})
	some f in blast.review with input as fx.doc({"manifests": [gone]})
	not f.pointer
	contains(f.message, "deletes")
}

test_blast_004_two_environments if {
	a := fx.manifest({"environment": "staging"})
	b := fx.manifest({"environment": "prod", "name": "web"})
	fs := blast.review with input as fx.doc({"manifests": [a, b]})
	# The production one is a review of its own (GOV-BLAST-003).
	fx.ids(fs) == ["GOV-BLAST-003", "GOV-BLAST-004"]
}

test_blast_004_too_many_workloads if {
	ms := [fx.manifest({"name": sprintf("w%d", [i])}) | some i in numbers.range(1, 11)]
	fx.ids(blast.review) == ["GOV-BLAST-004"] with input as fx.doc({"manifests": ms})
}

test_blast_005_cluster_scoped if {
	crb := fx.manifest({"kind": "ClusterRoleBinding", "environment": null})
	fx.ids(blast.review) == ["GOV-BLAST-005"] with input as fx.doc({"manifests": [crb]})
}

test_blast_001_renamed_away_from_a_protected_path if {
	moved := object.union(fx.file("ci-old.yml", 1), {"old_path": ".github/workflows/ci.yml", "status": "renamed"})
	c := fx.ai_commit("copilot", "m", {"files": [moved]})
	fs := blast.review with input as fx.doc({"commits": [c]})
	fx.ids(fs) == ["GOV-BLAST-001"]
	some f in fs
	f.file == ".github/workflows/ci.yml"
}

test_blast_002_files_leave_out_lock_files if {
	code := [fx.file(sprintf("src/f%d.rs", [i]), 1) | some i in numbers.range(1, 24)]
	locks := [fx.file("Cargo.lock", 1), fx.file("web/package-lock.json", 1)]
	c := fx.ai_commit("copilot", "m", {"files": array.concat(code, locks)})
	count(blast.review) == 0 with input as fx.doc({"commits": [c]})
	more := fx.ai_commit("copilot", "m", {"files": array.concat([fx.file("src/extra.rs", 1), fx.file("src/more.rs", 1)], array.concat(code, locks))})
	fx.ids(blast.review) == ["GOV-BLAST-002"] with input as fx.doc({"commits": [more]})
}

# The single message of the one GOV-BLAST-003 finding of some manifests.
blast_003_message(ms) := msg if {
	fs := [f | some f in blast.review; f.id == "GOV-BLAST-003"] with input as fx.doc({"manifests": ms})
	count(fs) == 1
	msg := fs[0].message
}

# Attack A: relabelled prod -> dev in the change that modifies it. The head
# environment says dev; the previous version said prod.
test_blast_003_relabel_out_of_production if {
	m := fx.manifest({"environment": "dev", "previous_environment": "prod", "environments": ["dev", "prod"]})
	msg := blast_003_message([m])
	msg == "this change modifies Deployment api and takes it out of production (prod -> dev)"
}

test_blast_003_relabel_into_production if {
	m := fx.manifest({"environment": "prod", "previous_environment": "dev", "environments": ["dev", "prod"]})
	msg := blast_003_message([m])
	msg == "this change modifies Deployment api and brings it into production (dev -> prod)"
}

# Attack B: a new object labelled dev in a folder environments.paths calls prod.
test_blast_003_label_against_a_production_folder if {
	m := fx.manifest({"change": "added", "environment": "dev", "previous_environment": null, "environments": ["dev", "prod"]})
	msg := blast_003_message([m])
	contains(msg, "adds Deployment api, which is in production by its label, annotation or path")
	contains(msg, "(dev, prod), though its environment is dev")
}

# An annotation that says production is enough, whatever the label says.
test_blast_003_any_association_is_production if {
	m := fx.manifest({"environment": "dev", "environments": ["dev", "production"]})
	msg := blast_003_message([m])
	contains(msg, "(dev, production), though its environment is dev")
}

# Attack C: the same content moved from deploy/prod/ to deploy/dev/.
test_blast_003_moved_object if {
	obj := {"kind": "NetworkPolicy"}
	m := fx.manifest({
		"kind": "NetworkPolicy", "name": "deny", "file": "deploy/dev/np.yaml",
		"previous_file": "deploy/prod/np.yaml", "object": obj, "previous": obj,
		"environment": "dev", "previous_environment": "prod", "environments": ["dev", "prod"],
	})
	msg := blast_003_message([m])
	msg == "this change moves NetworkPolicy deny from deploy/prod/np.yaml to deploy/dev/np.yaml and takes it out of production (prod -> dev)"
	# Labelled prod in both folders: still production, and still a move.
	kept := object.union(m, {"environment": "prod", "previous_environment": "prod"})
	blast_003_message([kept]) == "this change moves NetworkPolicy deny from deploy/prod/np.yaml to deploy/dev/np.yaml in production (environment prod)"
}

test_blast_003_no_production_association if {
	m := fx.manifest({"environment": "dev", "environments": ["dev", "staging"]})
	fx.ids(blast.review) == ["GOV-BLAST-004"] with input as fx.doc({"manifests": [m]})
}

# A relabel reaches both environments: with max_environments 1, one object
# moved from staging to dev is two.
test_blast_004_relabel_counts_both if {
	m := fx.manifest({"environment": "dev", "previous_environment": "staging", "environments": ["dev", "staging"]})
	fx.ids(blast.review) == ["GOV-BLAST-004"] with input as fx.doc({"manifests": [m]})
	same := fx.manifest({"environment": "dev"})
	count(blast.review) == 0 with input as fx.doc({"manifests": [same]})
}

# Line-level records: a squash whose AI lines are all in tests does not
# trip the protected path a human edited in it.
lined(file, ai) := object.union(file, {"ai_lines": ai})

line_commit(files, ai) := fx.ai_commit("claude-code", "m", {
	"files": files,
	"ai": {"assisted": true, "declared": null, "tools": [fx.tool("claude-code", "m")], "lines": {"ai": ai, "by_tool": {"claude-code": ai}, "sources": ["git-ai-note"]}},
})

test_blast_001_human_part_of_a_squash_is_not_charged if {
	c := line_commit([lined(fx.file(".github/workflows/ci.yml", 3), 0), lined(fx.file("tests/a.rs", 40), 40)], 40)
	count(blast.review) == 0 with input as fx.doc({"commits": [c]})
}

test_blast_001_ai_lines_in_the_protected_path_are if {
	c := line_commit([lined(fx.file(".github/workflows/ci.yml", 3), 1), lined(fx.file("tests/a.rs", 40), 39)], 40)
	fx.ids(blast.review) == ["GOV-BLAST-001"] with input as fx.doc({"commits": [c]})
}

test_blast_001_removals_and_renames_are_never_cleared if {
	removal := object.union(lined(fx.file(".github/workflows/ci.yml", 0), 0), {"deletions": 5})
	c := line_commit([removal], 0)
	fx.ids(blast.review) == ["GOV-BLAST-001"] with input as fx.doc({"commits": [c]})
	gone := object.union(lined(fx.file(".github/workflows/ci.yml", 0), 0), {"status": "deleted", "deletions": 5})
	d := line_commit([gone], 0)
	fx.ids(blast.review) == ["GOV-BLAST-001"] with input as fx.doc({"commits": [d]})
	moved := object.union(lined(fx.file("ci.yml", 3), 0), {"status": "renamed", "old_path": ".github/workflows/ci.yml"})
	r := line_commit([moved], 0)
	fx.ids(blast.review) == ["GOV-BLAST-001"] with input as fx.doc({"commits": [r]})
}

test_blast_001_without_line_data_every_file_counts if {
	c := fx.ai_commit("claude-code", "m", {"files": [lined(fx.file(".github/workflows/ci.yml", 3), null)]})
	fx.ids(blast.review) == ["GOV-BLAST-001"] with input as fx.doc({"commits": [c]})
}

test_blast_002_counts_ai_written_lines_when_recorded if {
	# 900 lines changed, of which AI wrote 100: under ai_max_lines (800).
	c := line_commit([lined(fx.file("src/a.rs", 900), 100)], 100)
	count(blast.review) == 0 with input as fx.doc({"commits": [c]})
	big := line_commit([lined(fx.file("src/a.rs", 900), 801)], 801)
	fs := blast.review with input as fx.doc({"commits": [big]})
	fx.ids(fs) == ["GOV-BLAST-002"]
	some f in fs
	contains(f.message, "801 AI-written lines")
}

test_blast_002_counts_files_with_ai_lines_when_recorded if {
	ai := [lined(fx.file(sprintf("src/f%d.rs", [i]), 1), 1) | some i in numbers.range(1, 3)]
	human := [lined(fx.file(sprintf("src/g%d.rs", [i]), 1), 0) | some i in numbers.range(1, 23)]
	files := array.concat(ai, human)
	c := line_commit(files, 3)
	count(blast.review) == 0 with input as fx.doc({"commits": [c]})
}
