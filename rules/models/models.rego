# Model deployments (opt-in, `models.enabled`): every storage URI of a
# model-serving object (KServe InferenceService, and the kinds listed in
# `models.kinds`) comes from an approved registry prefix, and the object
# names its model card in an annotation.
package govops.rules.models

import rego.v1

cfg := input.config.models

# JSON Pointer escaping of one reference token.
escape(key) := replace(replace(key, "~", "~0"), "/", "~1")

pointer(path) := concat("", [concat("", ["/", escape(sprintf("%v", [p]))]) | some p in path])

judged := [m |
	cfg.enabled == true
	some m in input.manifests
	m.change != "deleted"
	cfg.kinds[m.kind]
]

object_name(m) := m.name if m.name != null

object_name(m) := "(unnamed)" if m.name == null

# Every place a URI is declared, found by walking the whole object (an
# attacker puts the model in the spot a list of known paths forgot):
# any `storageUri`, any `storageUris` entry (a string or `{uri: ...}`),
# any `STORAGE_URI` env entry, any `storage` spec (its URI is in a Secret),
# and the kind's configured pointers (`*` matches one token).
uris(m) := [[path, v] | walk(m.object, [path, v]); uri_at(m.kind, path, v)]

uri_at(_, path, v) if {
	path[count(path) - 1] == "storageUri"
}

uri_at(_, path, v) if {
	count(path) >= 2
	path[count(path) - 2] == "storageUris"
	not is_object(v)
}

uri_at(_, path, v) if {
	count(path) >= 3
	path[count(path) - 3] == "storageUris"
	path[count(path) - 1] == "uri"
}

uri_at(_, path, v) if {
	count(path) >= 2
	path[count(path) - 2] == "env"
	is_object(v)
	v.name == "STORAGE_URI"
}

# KServe's storage spec (`storage: {key, path}`): the URI is in the
# storage-config Secret, which the manifest only names.
uri_at(_, path, v) if {
	path[count(path) - 1] == "storage"
	is_object(v)
}

uri_at(kind, path, _) if {
	some pattern in object.get(cfg.kinds, kind, [])
	tokens := array.slice(split(pattern, "/"), 1, count(split(pattern, "/")))
	count(tokens) == count(path)
	every n, t in tokens {
		t in {"*", sprintf("%v", [path[n]])}
	}
}

# A URI's value: a string, an env entry's value, or unknown.
value_of(v) := {"state": "value", "value": v} if {
	is_string(v)
} else := {"state": "unknown", "why": "comes from a storage-config Secret (storage.key)"} if {
	is_object(v)
	not v.name
	not v.uri
} else := {"state": "unknown", "why": "comes from valueFrom"} if {
	is_object(v)
	v.valueFrom
} else := {"state": "unknown", "why": "refers to another variable with $(...)"} if {
	is_string(v.value)
	contains(v.value, "$(")
} else := {"state": "value", "value": v.value} if {
	is_string(v.value)
} else := {"state": "unknown", "why": "is not a string"}

# Normal form for comparing: the scheme in lower case (URI schemes are
# case-insensitive), the rest as written.
normal(u) := concat("://", [lower(parts[0]), parts[1]]) if {
	parts := split(u, "://")
	count(parts) == 2
} else := u

# A path that climbs (`..`) or stays (`.`) is never approved: its prefix
# says nothing about where it ends up.
climbs(u) if {
	some seg in split(u, "/")
	seg in {"..", "."}
}

climbs(u) if regex.match(`(?i)%2e`, u)

# Approved: the URI is the prefix, or continues it at a `/` boundary
# (`s3://models` approves `s3://models/x`, not `s3://models-evil/x`).
approved(u) if {
	not climbs(u)
	some prefix in cfg.registries
	p := trim_suffix(normal(prefix), "/")
	n := normal(u)
	n == p
}

approved(u) if {
	not climbs(u)
	some prefix in cfg.registries
	p := concat("", [trim_suffix(normal(prefix), "/"), "/"])
	startswith(normal(u), p)
}

deny contains f if {
	some m in judged
	some [path, v] in uris(m)
	r := value_of(v)
	r.state == "value"
	not approved(r.value)
	f := {
		"id": "GOV-MODEL-001",
		"message": sprintf("%s %s loads a model from %q, which is not under an approved registry (models.registries: %s)", [m.kind, object_name(m), r.value, concat(", ", cfg.registries)]),
		"file": m.file,
		"doc": m.doc,
		"pointer": pointer(path),
	}
}

review contains f if {
	some m in judged
	some [path, v] in uris(m)
	r := value_of(v)
	r.state == "unknown"
	f := {
		"id": "GOV-MODEL-003",
		"message": sprintf("%s %s: the storage URI at %s %s, so the gate cannot see where the model comes from", [m.kind, object_name(m), pointer(path), r.why]),
		"file": m.file,
		"doc": m.doc,
		"pointer": pointer(path),
	}
}

deny contains f if {
	some m in judged
	card := object.get(object.get(m, "annotations", {}), cfg.model_card_annotation, "")
	not non_empty(card)
	f := {
		"id": "GOV-MODEL-002",
		"message": sprintf("%s %s has no model card annotation %s", [m.kind, object_name(m), cfg.model_card_annotation]),
		"file": m.file,
		"doc": m.doc,
		"pointer": sprintf("/metadata/annotations/%s", [escape(cfg.model_card_annotation)]),
	}
}

non_empty(s) if {
	is_string(s)
	trim_space(s) != ""
}
