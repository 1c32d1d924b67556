# AI provenance: an AI-assisted commit must say which tool and model made it,
# blocked or unlisted tools must not appear, and a sign-off must be a human's.
package govops.rules.ai

import rego.v1

cfg := input.config.ai

short(c) := substring(c.sha, 0, 7) if c.sha != null

short(c) := "(pending)" if c.sha == null

tools_text(c) := concat(", ", [t.tool | some t in c.ai.tools]) if count(c.ai.tools) > 0

tools_text(c) := "AI-Assisted: yes" if count(c.ai.tools) == 0

ai_commits := [c | some c in input.commits; c.ai.assisted]

required_fields := {field | some field in cfg.require}

# The provenance a commit records: the fields every one of its tools carries.
recorded(c) := {field |
	count(c.ai.tools) > 0
	some field in ["tool", "model", "session"]
	every t in c.ai.tools {
		not t[field] in {null, "unknown"}
	}
}

how_to_add := {
	"tool": "add a trailer that names it, e.g. `Assisted-by: claude-code:MODEL` or `AI-Tool: NAME`",
	"model": "add `AI-Model: MODEL` (or the kernel form `Assisted-by: TOOL:MODEL`)",
	"session": "add `AI-Session: ID` (or the tool's own session trailer, e.g. `Claude-Session:`)",
}

# How each tool can be made to record its model, when it writes none by
# default (the generic advice follows in every message).
model_hint := {
	"claude-code": "Claude Code names the model in its co-author line (`Co-Authored-By: Claude Opus 4.6 <noreply@anthropic.com>`) in recent versions",
	"aider": "aider writes it with `--attribute-co-authored-by` (`Co-authored-by: aider (MODEL) <aider@aider.chat>`)",
	"crush": "Crush writes it with the `assisted-by` trailer style (`Assisted-by: Crush:MODEL`)",
	"copilot": "Copilot writes no model",
	"cursor": "Cursor writes no model",
	"amp": "Amp writes no model (its Amp-Thread-ID links the thread)",
	"codex": "Codex writes no model",
}

hints(c, "model") := [sprintf("%s; ", [model_hint[t.tool]]) |
	some t in c.ai.tools
	t.model == null
	model_hint[t.tool]
]

hints(_, field) := [] if field != "model"

deny contains f if {
	some c in ai_commits
	some field in required_fields - recorded(c)
	f := {
		"id": "GOV-AI-001",
		"message": sprintf("AI-assisted commit %s (%s) does not record its %s: %s%s", [short(c), tools_text(c), field, concat("", hints(c, field)), how_to_add[field]]),
		"commit": c.sha,
	}
}

# The since date of a blocked entry, as nanoseconds (absent: the beginning).
since_ns(b) := 0 if not b.since

since_ns(b) := time.parse_rfc3339_ns(sprintf("%sT00:00:00Z", [b.since])) if count(b.since) == 10

since_ns(b) := time.parse_rfc3339_ns(b.since) if count(b.since) > 10

model_blocked(b, _) if not b.model

# Every model the commit names for the tool: a squash of two models' work
# is blocked when either is.
model_blocked(b, t) if {
	b.model
	some m in object.get(t, "models", [t.model])
	m != null
	govops.glob(lower(b.model), lower(m))
}

deny contains f if {
	count(cfg.blocked) > 0
	some c in ai_commits
	some t in c.ai.tools
	some b in cfg.blocked
	govops.glob(lower(b.tool), t.tool)
	model_blocked(b, t)
	time.parse_rfc3339_ns(c.committer.time) >= since_ns(b)
	f := {
		"id": "GOV-AI-002",
		"message": sprintf("commit %s was made with %s%s, which is blocked: %s", [short(c), t.tool, model_text(t), b.reason]),
		"commit": c.sha,
	}
}

model_text(t) := sprintf(" (%s)", [t.model]) if t.model != null

model_text(t) := "" if t.model == null

deny contains f if {
	count(cfg.allowed) > 0
	some c in ai_commits
	some t in c.ai.tools
	not govops.glob(cfg.allowed, t.tool)
	f := {
		"id": "GOV-AI-003",
		"message": sprintf("commit %s names AI tool %q, which is not in ai.allowed (%s)", [short(c), t.tool, concat(", ", cfg.allowed)]),
		"commit": c.sha,
	}
}

deny contains f if {
	cfg.require_declaration
	some c in input.commits
	count(c.ai.tools) == 0
	c.ai.declared == null
	f := {
		"id": "GOV-AI-004",
		"message": sprintf("commit %s does not declare whether AI was used: add the trailer `AI-Assisted: no` (or `yes` with the tool and model)", [short(c)]),
		"commit": c.sha,
	}
}

deny contains f if {
	some c in input.commits
	some s in c.signoffs
	s.tool != null
	f := {
		"id": "GOV-AI-005",
		"message": sprintf("commit %s is signed off by %s <%s>, an AI identity (%s): a sign-off certifies the origin of the change and must be a human's", [short(c), s.name, s.email, s.tool]),
		"commit": c.sha,
	}
}

# Line-level provenance where the team requires it: an AI-assisted commit
# that touches a path of ai.require_line_provenance must carry a git-ai note
# or an Agent Trace record saying which of its lines AI wrote.
line_paths := {p | some c in ai_commits; some f in c.files; some p in {f.path, f.old_path} - {null}}

lined_paths := govops.glob_filter(cfg.require_line_provenance, line_paths) if count(cfg.require_line_provenance) > 0

lined_paths := set() if count(object.get(cfg, "require_line_provenance", [])) == 0

deny contains f if {
	count(lined_paths) > 0
	some c in ai_commits
	object.get(c.ai, "lines", null) == null
	touched := sort({p | some file in c.files; some p in {file.path, file.old_path} - {null}; lined_paths[p]})
	count(touched) > 0
	f := {
		"id": "GOV-AI-006",
		"message": sprintf("AI-assisted commit %s (%s) changes %s without line-level provenance, which ai.require_line_provenance requires there: record which lines AI wrote with git-ai (refs/notes/ai, pushed with the commit) or an Agent Trace record (%s)", [short(c), tools_text(c), concat(", ", touched), cfg.agent_trace]),
		"commit": c.sha,
		"file": touched[0],
	}
}
