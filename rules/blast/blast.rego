# Blast radius: how far one change reaches, and how much an AI-assisted
# commit may touch before a human must look.
package govops.rules.blast

import rego.v1

cfg := input.config.blast_radius

short(c) := substring(c.sha, 0, 7) if c.sha != null

short(c) := "(pending)" if c.sha == null

workload_kinds := {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod", "ReplicaSet"}

# Computed once, and walked by the rules below: most manifests of a
# --all-manifests run are unchanged, and most commits are not AI-assisted.
changed_manifests := [m | some m in input.manifests; m.change != "unchanged"]

ai_commits := [c | some c in input.commits; c.ai.assisted]

paths(file) := {file.path, file.old_path} - {null}

# Every path the AI-assisted commits touch, matched against the globs in one
# call each: membership below is then a set lookup. (Two comprehensions, not
# a call of paths() per file: a function call per element is what costs in
# Rego, and old_path is null but for renames.)
ai_paths := {f.path | some c in ai_commits; some f in c.files} | {f.old_path |
	some c in ai_commits
	some f in c.files
	f.old_path != null
}

protected := govops.glob_filter(cfg.protected_paths, ai_paths)

ignored := govops.glob_filter(cfg.ignore_paths, ai_paths | {f.path | some f in input.changes.files})

# Line-level records (git-ai notes, Agent Trace) say which lines AI wrote:
# a commit that has them is charged with its AI-written lines only.
has_lines(c) if object.get(c.ai, "lines", null) != null

ai_lines(file) := object.get(file, "ai_lines", null)

# A file the commit adds or edits, writing lines of which none is AI's: a
# human's part of a squash. Records attribute the lines a commit writes,
# not those it removes or moves, so a deletion, a rename and an edit that
# only removes lines are never cleared so.
human_part(c, file) if {
	has_lines(c)
	ai_lines(file) == 0
	file.status in {"added", "modified"}
	file.additions > 0
}

review contains f if {
	# Most changes touch no protected path: then the commits are not walked.
	count(protected) > 0
	some c in ai_commits
	some file in c.files
	some path in paths(file)
	protected[path]
	not human_part(c, file)
	f := {
		"id": "GOV-BLAST-001",
		"message": sprintf("AI-assisted commit %s changes the protected path %s: a human must approve it", [short(c), path]),
		"commit": c.sha,
		"file": path,
	}
}

counted(files) := [f | some f in files; not ignored[f.path]]

lines(files) := sum([n | some f in files; n := f.additions + f.deletions])

# An AI-assisted commit's size: with line-level records, the lines and the
# files AI wrote; without, all of its lines and files.
ai_size_lines(c, files) := sum([n | some f in files; n := object.get(f, "ai_lines", 0)]) if has_lines(c)

ai_size_lines(c, files) := lines(files) if not has_lines(c)

ai_size_files(c, files) := count([f | some f in files; object.get(f, "ai_lines", 0) > 0]) if has_lines(c)

ai_size_files(c, files) := count(files) if not has_lines(c)

with_ai(c) := " with AI-written lines" if has_lines(c)

with_ai(c) := "" if not has_lines(c)

ai_word(c) := "AI-written " if has_lines(c)

ai_word(c) := "" if not has_lines(c)

review contains f if {
	cfg.max_files != null
	n := count(counted(input.changes.files))
	n > cfg.max_files
	f := {
		"id": "GOV-BLAST-002",
		"message": sprintf("this change touches %d files, more than blast_radius.max_files (%d)", [n, cfg.max_files]),
	}
}

review contains f if {
	cfg.max_lines != null
	n := lines(counted(input.changes.files))
	n > cfg.max_lines
	f := {
		"id": "GOV-BLAST-002",
		"message": sprintf("this change adds and deletes %d lines, more than blast_radius.max_lines (%d)", [n, cfg.max_lines]),
	}
}

# Leaving out ignored paths only lowers a commit's size, so the cheap raw
# size is compared first and only commits over a limit are measured again.
review contains f if {
	cfg.ai_max_files != null
	some c in ai_commits
	count(c.files) > cfg.ai_max_files
	n := ai_size_files(c, counted(c.files))
	n > cfg.ai_max_files
	f := {
		"id": "GOV-BLAST-002",
		"message": sprintf("AI-assisted commit %s touches %d files%s, more than blast_radius.ai_max_files (%d): split it or have a human approve", [short(c), n, with_ai(c), cfg.ai_max_files]),
		"commit": c.sha,
	}
}

review contains f if {
	cfg.ai_max_lines != null
	some c in ai_commits
	lines(c.files) > cfg.ai_max_lines
	n := ai_size_lines(c, counted(c.files))
	n > cfg.ai_max_lines
	f := {
		"id": "GOV-BLAST-002",
		"message": sprintf("AI-assisted commit %s changes %d %slines, more than blast_radius.ai_max_lines (%d): split it or have a human approve", [short(c), n, ai_word(c), cfg.ai_max_lines]),
		"commit": c.sha,
	}
}

located(m, f) := object.union(f, {"file": m.file, "doc": m.doc, "pointer": ""}) if m.change != "deleted"

located(m, f) := object.union(f, {"file": m.file}) if m.change == "deleted"

production := {e | some e in input.config.environments.production}

# An object is production when ANY environment it is associated with is:
# its label and annotation, its path's, at head and in its previous version
# (m.environments). The change controls its own label and file name, so its
# head label alone (m.environment) cannot take an object out of production.
in_production(m) if {
	some e in m.environments
	production[e]
}

review contains g if {
	some m in changed_manifests
	in_production(m)
	g := located(m, {
		"id": "GOV-BLAST-003",
		"message": sprintf("this change %s %s %s%s", [verb(m), m.kind, name(m), where(m)]),
	})
}

verb(m) := "moves" if moved(m)

verb(m) := {"added": "adds", "modified": "modifies", "deleted": "deletes"}[m.change] if not moved(m)

# Moved: the same content, in another file (a rename out of one folder into
# another takes the object from one application to another).
moved(m) if {
	m.change == "modified"
	m.previous_file != null
	m.object == m.previous
}

from(m) := sprintf(" from %s to %s", [m.previous_file, m.file]) if moved(m)

from(m) := "" if not moved(m)

env_name(e) := e if e != null

env_name(e) := "none" if e == null

# The environment itself changed, across production's border: the move is
# the finding's subject, out of production first.
where(m) := sprintf("%s and takes it out of production (%s -> %s)", [from(m), env_name(m.previous_environment), env_name(m.environment)]) if {
	production[m.previous_environment]
	not production[m.environment]
}

where(m) := sprintf("%s and brings it into production (%s -> %s)", [from(m), env_name(m.previous_environment), env_name(m.environment)]) if {
	m.change != "added"
	not production[m.previous_environment]
	production[m.environment]
}

# Production by its head environment, and was there before (or is new).
where(m) := sprintf("%s in production (environment %s)", [from(m), m.environment]) if {
	production[m.environment]
	not moves_into(m)
}

# Production by another association than its head environment: a label
# that says otherwise than the production folder it is in, or a move out of
# a production folder with the label unchanged.
where(m) := sprintf("%s, which is in production by its label, annotation or path at head or base (%s), though its environment is %s", [from(m), concat(", ", m.environments), env_name(m.environment)]) if {
	not production[m.environment]
	not production[m.previous_environment]
}

moves_into(m) if {
	m.change != "added"
	not production[m.previous_environment]
}

name(m) := m.name if m.name != null

name(m) := "(unnamed)" if m.name == null

workloads := {[m.kind, object.get(m, "namespace", null), m.name] |
	some m in changed_manifests
	m.kind in workload_kinds
}

# Every environment a changed object is associated with: a relabel from
# prod to dev reaches both.
environments := {e |
	some m in changed_manifests
	some e in m.environments
}

review contains f if {
	cfg.max_workloads != null
	count(workloads) > cfg.max_workloads
	f := {
		"id": "GOV-BLAST-004",
		"message": sprintf("this change touches %d workloads, more than blast_radius.max_workloads (%d): split it", [count(workloads), cfg.max_workloads]),
	}
}

review contains f if {
	cfg.max_environments != null
	count(environments) > cfg.max_environments
	f := {
		"id": "GOV-BLAST-004",
		"message": sprintf("this change touches %d environments (%s), more than blast_radius.max_environments (%d): promote one environment at a time", [count(environments), concat(", ", sort(environments)), cfg.max_environments]),
	}
}

review contains g if {
	some m in changed_manifests
	m.kind in cfg.cluster_scoped_kinds
	g := located(m, {
		"id": "GOV-BLAST-005",
		"message": sprintf("this change %s the cluster-scoped %s %s, which reaches beyond one namespace", [verb(m), m.kind, name(m)]),
	})
}
