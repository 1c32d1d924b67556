# Required metadata: deployable objects carry the labels that say who owns
# them, who pays for them and where they run; workloads declare required env vars.
package govops.rules.tags

import rego.v1

cfg := input.config.tags

# JSON Pointer escaping of one reference token.
escape(key) := replace(replace(key, "~", "~0"), "/", "~1")

kinds := {k | some k in cfg.kinds}

required := {k | some k in cfg.required}

# The objects these rules judge, computed once: every rule below walks this
# list instead of filtering all manifests again.
judged := [m |
	some m in input.manifests
	m.change != "deleted"
	kinds[m.kind]
]

# Where each label lives, computed once per key: a function call per finding
# is what costs in Rego, and most manifests lack the same few labels.
label_pointer := {key: sprintf("/metadata/labels/%s", [escape(key)]) | some key in required}

deny contains f if {
	some m in judged
	missing := required - {k | some k, _ in m.labels}
	some key in missing
	f := {
		"id": "GOV-TAG-001",
		"message": sprintf("%s %s has no label %q", [m.kind, object_name(m), key]),
		"file": m.file,
		"doc": m.doc,
		"pointer": label_pointer[key],
	}
}

# One definition with an else: two definitions are both evaluated per call.
object_name(m) := m.name if m.name != null
else := "(unnamed)"

# Allowed values as sets, and patterns as anchored regexes, prepared once.
allowed_values := {key: {v | some v in rule} | some key, rule in cfg.allowed; is_array(rule)}

allowed_patterns := {key: sprintf("^(?:%s)$", [rule.pattern]) | some key, rule in cfg.allowed; is_object(rule)}

tag_002(m, key, value, allowed) := {
	"id": "GOV-TAG-002",
	"message": sprintf("%s %s has label %s=%v, which is not allowed (allowed: %s)", [m.kind, object_name(m), key, value, allowed]),
	"file": m.file,
	"doc": m.doc,
	"pointer": sprintf("/metadata/labels/%s", [escape(key)]),
}

deny contains f if {
	some m in judged
	some key, values in allowed_values
	value := m.labels[key]
	not values[value]
	f := tag_002(m, key, value, concat(", ", sort(values)))
}

deny contains f if {
	some m in judged
	some key, pattern in allowed_patterns
	value := m.labels[key]
	not regex.match(pattern, sprintf("%v", [value]))
	f := tag_002(m, key, value, sprintf("/%s/", [cfg.allowed[key].pattern]))
}

# Where a workload keeps its pod spec.
pod_spec_path(kind) := "/spec/template/spec" if kind in {"Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet"}

pod_spec_path("CronJob") := "/spec/jobTemplate/spec/template/spec"

pod_spec_path("Pod") := "/spec"

pod_spec(m) := object.get(m.object, [p | some p in split(trim_prefix(pod_spec_path(m.kind), "/"), "/")], {})

deny contains f if {
	count(cfg.env_vars) > 0
	some m in input.manifests
	m.change != "deleted"
	spec := pod_spec(m)
	some group in ["containers", "initContainers"]
	some i, container in object.get(spec, group, [])
	declared := {e.name | some e in object.get(container, "env", [])}
	some var in cfg.env_vars
	not var in declared
	f := {
		"id": "GOV-TAG-003",
		"message": sprintf("container %q of %s %s does not declare env var %s", [object.get(container, "name", "?"), m.kind, object_name(m), var]),
		"file": m.file,
		"doc": m.doc,
		"pointer": sprintf("%s/%s/%d/env", [pod_spec_path(m.kind), group, i]),
	}
}
