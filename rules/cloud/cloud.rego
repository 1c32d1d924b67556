# Cloud resources in Terraform and OpenTofu plans (input.plans): required
# tags in the label vocabulary (tags.allowed for values, cloud.tag_names for
# the tag keys), approved regions, and how much a plan destroys.
package govops.rules.cloud

import rego.v1

cfg := input.config.cloud

# The tag key a label is carried under.
tag_key(label) := object.get(cfg.tag_names, label, label)

tagged_providers := {p | some p in cfg.tagged_providers}

# Changes after which a resource no longer exists (or was only read).
gone := {"delete", "read", "forget", "delete-forget"}

# Every managed resource that exists after apply. (Iterated in place by the
# rules below: a list of [plan, resource] pairs cost a third of the time of
# a 15,000-resource plan.)
exists(r) if {
	r.mode == "managed"
	not gone[r.change]
}

# Types that cannot carry tags: the shipped table, its globs, the config's.
types := {r.type | some p in input.plans; some r in p.resources}

untaggable := untaggable_types | govops.glob_filter(array.concat(untaggable_globs, cfg.untaggable), types)

# Whether a resource's tags are judged: it exists after apply, its provider
# is a tagged one, its type can carry tags.
tagged(r) if {
	exists(r)
	tagged_providers[r.provider_type]
	not untaggable[r.type]
}

# The required tag keys, each with its label, computed once.
required_keys := {tag_key(label): label | some label in cfg.required}

required_set := {k | some k, _ in required_keys}

# Where a finding about a resource points: its block in the .tf source, or the plan.
at(r, f) := object.union(f, {"file": r.file, "line": r.line})

# A tag is there when it has a value (an empty one is no owner).
has_tag(r, key) if {
	value := r.tags[key]
	value != null
	value != ""
}

# The required keys a resource lacks (present or unknown), one set
# difference per resource.
lacking(r) := required_set - {k | some k, v in r.tags; v != null; v != ""}

unknown_tag(r, key) if key in r.tags_unknown

unknown_tag(r, key) if {
	r.tags_all_unknown
	not r.tags[key]
}

named(label, key) := sprintf("%q", [key]) if label == key

named(label, key) := sprintf("%q (label %s)", [key, label]) if label != key

deny contains f if {
	some p in input.plans
	some r in p.resources
	tagged(r)
	some key in lacking(r)
	not unknown_tag(r, key)
	f := at(r, {
		"id": "GOV-CLOUD-001",
		"message": sprintf("%s (%s) has no tag %s", [r.address, p.file, named(required_keys[key], key)]),
	})
}

allowed_values := {label: {v | some v in rule} | some label, rule in input.config.tags.allowed; is_array(rule)}

allowed_patterns := {label: sprintf("^(?:%s)$", [rule.pattern]) | some label, rule in input.config.tags.allowed; is_object(rule)}

deny contains f if {
	some p in input.plans
	some r in p.resources
	some label, values in allowed_values
	tagged(r)
	key := tag_key(label)
	value := r.tags[key]
	has_tag(r, key)
	not values[value]
	f := at(r, {
		"id": "GOV-CLOUD-002",
		"message": sprintf("%s has tag %s=%v, which is not allowed (allowed: %s)", [r.address, key, value, concat(", ", sort(values))]),
	})
}

deny contains f if {
	some p in input.plans
	some r in p.resources
	some label, pattern in allowed_patterns
	tagged(r)
	key := tag_key(label)
	value := r.tags[key]
	has_tag(r, key)
	not regex.match(pattern, sprintf("%v", [value]))
	f := at(r, {
		"id": "GOV-CLOUD-002",
		"message": sprintf("%s has tag %s=%v, which is not allowed (allowed: /%s/)", [r.address, key, value, input.config.tags.allowed[label].pattern]),
	})
}

# The region rule of a resource: by its type, else by its provider.
region_globs(r) := cfg.regions[r.type]

region_globs(r) := cfg.regions[r.provider_type] if not cfg.regions[r.type]

region_ok(globs, region) if {
	some g in globs
	glob.match(g, [], region)
}

deny contains f if {
	count(cfg.regions) > 0
	some p in input.plans
	some r in p.resources
	exists(r)
	globs := region_globs(r)
	r.region != null
	not region_ok(globs, r.region)
	f := at(r, {
		"id": "GOV-CLOUD-004",
		"message": sprintf("%s is in region %s, which is not approved for %s (approved: %s)", [r.address, r.region, region_subject(r), concat(", ", globs)]),
	})
}

region_subject(r) := r.type if cfg.regions[r.type]

region_subject(r) := sprintf("provider %s", [r.provider_type]) if not cfg.regions[r.type]

review contains f if {
	count(cfg.regions) > 0
	some p in input.plans
	some r in p.resources
	exists(r)
	_ := region_globs(r)
	r.region_unknown
	f := at(r, {
		"id": "GOV-CLOUD-005",
		"message": sprintf("the region of %s is known only after apply, so it cannot be checked against the approved regions", [r.address]),
	})
}

destructive(r) if {
	r.mode == "managed"
	r.change in {"delete", "replace"}
}

# Per plan: its destroyed and replaced resources.
destroyed := {p.file: [r | some r in p.resources; destructive(r)] | some p in input.plans}

review contains f if {
	cfg.max_deletes != null
	some p in input.plans
	gone := destroyed[p.file]
	count(gone) > cfg.max_deletes
	f := {
		"id": "GOV-CLOUD-006",
		"message": sprintf("the plan %s deletes or replaces %d resources, more than cloud.max_deletes (%d): %s", [p.file, count(gone), cfg.max_deletes, first_addresses(gone)]),
		"file": p.file,
	}
}

first_addresses(rs) := concat(", ", array.concat([r.address | some i, r in rs; i < 5], more(rs)))

more(rs) := [sprintf("and %d more", [count(rs) - 5])] if count(rs) > 5

more(rs) := [] if count(rs) <= 5

production_envs := {e | some e in input.config.environments.production}

production_accounts := {a | some a in cfg.production_accounts}

changes(p) := [r | some r in p.resources; not r.change in {"no-op", "read"}]

production_reason(p) := sprintf("environment %s", [concat(", ", sort(envs))]) if {
	envs := {e | some e in p.environments; production_envs[e]}
	count(envs) > 0
}

production_reason(p) := sprintf("account %s", [concat(", ", sort(accounts))]) if {
	not any_production_env(p)
	accounts := {a | some a in p.accounts; production_accounts[a]}
	count(accounts) > 0
}

any_production_env(p) if {
	some e in p.environments
	production_envs[e]
}

review contains f if {
	some p in input.plans
	reason := production_reason(p)
	n := count(changes(p))
	n > 0
	f := {
		"id": "GOV-CLOUD-007",
		"message": sprintf("the plan %s changes %d resources in production (%s)", [p.file, n, reason]),
		"file": p.file,
	}
}

# The .tf files behind a plan: in its root folder or below it, or the file
# of a destroyed resource's block. A plan whose root folder is not known
# is behind every .tf file (fail closed).
behind(p, path) if {
	endswith(path, ".tf")
	p.root == null
}

behind(p, path) if {
	endswith(path, ".tf")
	p.root == ""
}

behind(p, path) if {
	endswith(path, ".tf")
	p.root != null
	p.root != ""
	startswith(path, concat("", [p.root, "/"]))
}

behind(p, path) if {
	some r in destroyed[p.file]
	r.file == path
}

review contains f if {
	some p in input.plans
	count(destroyed[p.file]) > 0
	some c in input.commits
	c.ai.assisted
	some file in c.files
	behind(p, file.path)
	f := {
		"id": "GOV-CLOUD-008",
		"message": sprintf("AI-assisted commit %s changes %s, behind the plan %s that deletes or replaces %d resources: a human must approve", [short(c), file.path, p.file, count(destroyed[p.file])]),
		"file": file.path,
		"commit": c.sha,
	}
}

short(c) := substring(c.sha, 0, 7) if c.sha != null

short(c) := "(pending)" if c.sha == null

# A required tag known only after apply: its own outcome, a review by
# default; `severity: {GOV-CLOUD-003: deny}` refuses it, `off` passes it.
review contains f if {
	some p in input.plans
	some r in p.resources
	tagged(r)
	some key in lacking(r)
	unknown_tag(r, key)
	f := at(r, {
		"id": "GOV-CLOUD-003",
		"message": sprintf("%s (%s): the value of tag %s is known only after apply, so it cannot be checked", [r.address, p.file, named(required_keys[key], key)]),
	})
}
