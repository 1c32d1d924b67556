# The OpenTelemetry contract (opt-in, `telemetry.enabled`): every container
# of a workload says which service it is and where it runs
# (`telemetry.required` resource attributes), and the values agree with
# what govops already knows of the workload (its name label, its
# environment). Values come from OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES
# or, when the OpenTelemetry Operator injects the pod, its
# `resource.opentelemetry.io/<attribute>` pod annotations.
package govops.rules.telemetry

import rego.v1

cfg := input.config.telemetry

# JSON Pointer escaping of one reference token.
escape(key) := replace(replace(key, "~", "~0"), "/", "~1")

# Where a workload keeps its pod spec (as the tags rules).
pod_spec_path(kind) := "/spec/template/spec" if kind in {"Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet"}

pod_spec_path("CronJob") := "/spec/jobTemplate/spec/template/spec"

pod_spec_path("Pod") := "/spec"

parts(path) := [p | some p in split(trim_prefix(path, "/"), "/"); p != ""]

# The pod's metadata: the template's for a workload, the object's for a Pod.
pod_meta_path(kind) := concat("", [trim_suffix(pod_spec_path(kind), "/spec"), "/metadata"])

pod_meta(m) := object.get(m.object, parts(pod_meta_path(m.kind)), {})

judged := [m |
	cfg.enabled == true
	some m in input.manifests
	m.change != "deleted"
	pod_spec_path(m.kind)
]

object_name(m) := m.name if m.name != null

object_name(m) := "(unnamed)" if m.name == null

# The entry that sets a variable: with duplicate names the kubelet keeps
# the last one, so the last entry is the one the process sees.
entry(c, name) := [j, c.env[j]] if {
	js := [j | some j, e in c.env; is_object(e); e.name == name]
	count(js) > 0
	j := max(js)
}

# What a manifest says of a variable's value.
label_ref(e) := l if {
	path := e.valueFrom.fieldRef.fieldPath
	regex.match(`^metadata\.labels\['[^']+'\]$`, path)
	l := trim_suffix(trim_prefix(path, "metadata.labels['"), "']")
}

classify(e) := {"state": "ref", "label": l} if {
	l := label_ref(e)
} else := {"state": "unknown", "why": "comes from valueFrom"} if {
	e.valueFrom
} else := {"state": "empty"} if {
	object.get(e, "value", "") == ""
} else := {"state": "unknown", "why": "is not a string"} if {
	not is_string(e.value)
} else := {"state": "unknown", "why": "refers to another variable with $(...)"} if {
	contains(e.value, "$(")
} else := {"state": "empty"} if {
	trim_space(e.value) == ""
} else := {"state": "value", "value": trim_space(e.value)}

env_pointer(m, i, j) := sprintf("%s/containers/%d/env/%d", [pod_spec_path(m.kind), i, j])

# OTEL_SERVICE_NAME, when set to something.
env_source(m, i, c, name) := object.union(r, {"pointer": env_pointer(m, i, j), "via": name}) if {
	[j, e] := entry(c, name)
	r := classify(e)
	r.state != "empty"
}

# OTEL_RESOURCE_ATTRIBUTES: `key=value,key=value`, keys and values trimmed,
# values percent-decoded (W3C Baggage octets: `+` is a plus, not a space);
# a value may hold `=`; a repeated key: the last one wins.
pairs(s) := [[k, v] |
	some part in split(s, ",")
	kv := split(part, "=")
	count(kv) >= 2
	k := trim_space(kv[0])
	v := urlquery.decode(replace(trim_space(concat("=", array.slice(kv, 1, count(kv)))), "+", "%2B"))
]

attribute(s, key) := v if {
	ps := pairs(s)
	is := [n | some n, p in ps; p[0] == key]
	count(is) > 0
	v := ps[max(is)][1]
	v != ""
}

attr_source(m, i, c, key) := s if {
	[j, e] := entry(c, "OTEL_RESOURCE_ATTRIBUTES")
	r := classify(e)
	r.state == "value"
	v := attribute(r.value, key)
	s := {"state": "value", "value": v, "pointer": env_pointer(m, i, j), "via": "OTEL_RESOURCE_ATTRIBUTES"}
} else := s if {
	[j, e] := entry(c, "OTEL_RESOURCE_ATTRIBUTES")
	r := classify(e)
	r.state in {"unknown", "ref"}
	why := object.get(r, "why", "comes from valueFrom")
	s := {"state": "unknown", "why": why, "pointer": env_pointer(m, i, j), "via": "OTEL_RESOURCE_ATTRIBUTES"}
}

# The OpenTelemetry Operator injects a pod that has an
# `instrumentation.opentelemetry.io/inject-<language>` annotation (not
# "false"), and sets each `resource.opentelemetry.io/<attribute>` pod
# annotation as a resource attribute.
injected(m) if {
	some k, v in object.get(pod_meta(m), "annotations", {})
	startswith(k, "instrumentation.opentelemetry.io/inject-")
	v != "false"
}

annotation_source(m, key) := s if {
	injected(m)
	ann := concat("", ["resource.opentelemetry.io/", key])
	v := pod_meta(m).annotations[ann]
	is_string(v)
	trim_space(v) != ""
	s := {"state": "value", "value": trim_space(v), "pointer": concat("", [pod_meta_path(m.kind), "/annotations/", escape(ann)]), "via": concat("", ["annotation ", ann])}
}

# Where a container's attribute comes from, in the SDK's order:
# OTEL_SERVICE_NAME wins for service.name, then OTEL_RESOURCE_ATTRIBUTES,
# then the deprecated `deployment.environment` key for
# `deployment.environment.name`, then the Operator's annotations.
source(m, i, c, key) := s if {
	key == "service.name"
	s := env_source(m, i, c, "OTEL_SERVICE_NAME")
} else := s if {
	s := attr_source(m, i, c, key)
} else := s if {
	key == "deployment.environment.name"
	s := attr_source(m, i, c, "deployment.environment")
} else := s if {
	s := annotation_source(m, key)
}

# The label each attribute must agree with, and the value it must have.
label_for("service.name") := cfg.service_name_label

label_for("deployment.environment.name") := input.config.environments.label

expected(m, "service.name") := v if {
	v := object.get(object.get(m, "labels", {}), cfg.service_name_label, m.name)
	is_string(v)
}

expected(m, "deployment.environment.name") := m.environment if is_string(m.environment)

containers := [[m, i, c] |
	some m in judged
	some i, c in object.get(object.get(m.object, parts(pod_spec_path(m.kind)), {}), "containers", [])
	is_object(c)
]

where(m, c) := sprintf("container %q of %s %s", [object.get(c, "name", "?"), m.kind, object_name(m)])

container_pointer(m, i, c) := sprintf("%s/containers/%d/env", [pod_spec_path(m.kind), i]) if c.env

container_pointer(m, i, c) := sprintf("%s/containers/%d", [pod_spec_path(m.kind), i]) if not c.env

deny contains f if {
	some [m, i, c] in containers
	some key in cfg.required
	not source(m, i, c, key)
	f := {
		"id": "GOV-OTEL-001",
		"message": sprintf("%s sets no OpenTelemetry resource attribute %s (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES)", [where(m, c), key]),
		"file": m.file,
		"doc": m.doc,
		"pointer": container_pointer(m, i, c),
	}
}

# A literal value that is not the workload's.
deny contains f if {
	some [m, i, c] in containers
	some key in cfg.required
	s := source(m, i, c, key)
	s.state == "value"
	want := expected(m, key)
	s.value != want
	f := otel_002(m, c, s, key, sprintf("%q", [s.value]), want)
}

# A label reference that reads another label, or a pod label that differs.
deny contains f if {
	some [m, i, c] in containers
	some key in cfg.required
	s := source(m, i, c, key)
	s.state == "ref"
	want := expected(m, key)
	got := object.get(object.get(pod_meta(m), "labels", {}), s.label, null)
	got != want
	f := otel_002(m, c, s, key, sprintf("pod label %s (%v)", [s.label, got]), want)
}

# OTEL_SERVICE_NAME and the attribute both given and different: the SDK
# takes OTEL_SERVICE_NAME, the reader of the attributes sees another name.
deny contains f if {
	some [m, i, c] in containers
	"service.name" in cfg.required
	s := env_source(m, i, c, "OTEL_SERVICE_NAME")
	s.state == "value"
	a := attr_source(m, i, c, "service.name")
	a.state == "value"
	a.value != s.value
	f := otel_002(m, c, a, "service.name", sprintf("%q", [a.value]), s.value)
}

otel_002(m, c, s, key, got, want) := {
	"id": "GOV-OTEL-002",
	"message": sprintf("%s sets %s to %s in %s, not %q", [where(m, c), key, got, s.via, want]),
	"file": m.file,
	"doc": m.doc,
	"pointer": s.pointer,
}

review contains f if {
	some [m, i, c] in containers
	some key in cfg.required
	s := source(m, i, c, key)
	s.state == "unknown"
	f := {
		"id": "GOV-OTEL-003",
		"message": sprintf("%s: %s in %s %s, so the gate cannot see its value", [where(m, c), key, s.via, s.why]),
		"file": m.file,
		"doc": m.doc,
		"pointer": s.pointer,
	}
}
