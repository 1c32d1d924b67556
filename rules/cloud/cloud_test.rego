package govops.rules.cloud_test

import data.govops.fixtures as fx
import data.govops.rules.cloud
import rego.v1

tags := {"environment": "dev", "owner": "team-a", "cost-center": "cc-1"}

resource(over) := fx.shallow(
	{
		"address": "aws_s3_bucket.logs", "module": null, "mode": "managed",
		"type": "aws_s3_bucket", "name": "logs",
		"provider": "registry.terraform.io/hashicorp/aws", "provider_type": "aws",
		"actions": ["create"], "change": "create", "deposed": null,
		"after": {}, "after_unknown": {},
		"tags": tags, "tags_unknown": [], "tags_all_unknown": false, "tags_attribute": true,
		"region": "eu-west-1", "region_unknown": false,
		"file": "infra/main.tf", "line": 3,
	},
	over,
)

plan(resources, over) := fx.shallow(
	{
		"file": "infra/plan.tfplan.json", "format_version": "1.2", "terraform_version": "1.9.0",
		"root": "infra", "environments": [], "accounts": [], "resources": resources,
	},
	over,
)

with_cloud(c) := object.union(fx.config, {"cloud": c})

run(resources) := fx.doc({"plans": [plan(resources, {})]})

test_tagged_resource_passes if {
	count(cloud.deny) == 0 with input as run([resource({})])
	count(cloud.review) == 0 with input as run([resource({})])
}

test_cloud_001_missing_tag_points_at_the_block if {
	r := resource({"tags": object.remove(tags, ["owner"])})
	fs := cloud.deny with input as run([r])
	fx.ids(fs) == ["GOV-CLOUD-001"]
	some f in fs
	f.file == "infra/main.tf"
	f.line == 3
	contains(f.message, "\"owner\"")
}

test_cloud_001_mapping_names_the_tag_key if {
	cfg := with_cloud({"tag_names": {"owner": "Owner"}})
	ok := resource({"tags": {"environment": "dev", "Owner": "a", "cost-center": "c"}})
	count(cloud.deny) == 0 with input as fx.doc({"config": cfg, "plans": [plan([ok], {})]})
	bad := resource({})
	fs := cloud.deny with input as fx.doc({"config": cfg, "plans": [plan([bad], {})]})
	some f in fs
	contains(f.message, "\"Owner\" (label owner)")
}

test_cloud_001_empty_value_is_missing if {
	r := resource({"tags": object.union(tags, {"owner": ""})})
	fx.ids(cloud.deny) == ["GOV-CLOUD-001"] with input as run([r])
}

test_untaggable_types_deletes_and_other_providers_are_not_judged if {
	policy := resource({"type": "aws_iam_role_policy", "tags": {}})
	attach := resource({"type": "aws_iam_role_policy_attachment", "tags": {}})
	gone := resource({"change": "delete", "actions": ["delete"], "tags": {}})
	rnd := resource({"type": "random_id", "provider_type": "random", "tags": {}})
	ds := resource({"mode": "data", "change": "read", "tags": {}})
	count(cloud.deny) == 0 with input as run([policy, attach, gone, rnd, ds])
}

test_untaggable_extended_in_config if {
	cfg := with_cloud({"untaggable": ["aws_s3_*"]})
	count(cloud.deny) == 0 with input as fx.doc({"config": cfg, "plans": [plan([resource({"tags": {}})], {})]})
}

test_cloud_002_value_not_allowed if {
	r := resource({"tags": object.union(tags, {"environment": "prd"})})
	fx.ids(cloud.deny) == ["GOV-CLOUD-002"] with input as run([r])
}

test_cloud_003_unknown_is_review_by_default if {
	r := resource({"tags": object.remove(tags, ["owner"]), "tags_unknown": ["owner"]})
	count(cloud.deny) == 0 with input as run([r])
	fx.ids(cloud.review) == ["GOV-CLOUD-003"] with input as run([r])
	all := resource({"tags": {}, "tags_all_unknown": true})
	fx.ids(cloud.review) == ["GOV-CLOUD-003", "GOV-CLOUD-003", "GOV-CLOUD-003"] with input as run([all])
}

regions := with_cloud({"regions": {"aws": ["eu-*"], "aws_s3_bucket": ["eu-west-1"]}})

test_cloud_004_region_by_type_then_provider if {
	ok := resource({})
	bucket := resource({"region": "eu-central-1", "address": "aws_s3_bucket.b"})
	vm := resource({"type": "aws_instance", "address": "aws_instance.a", "region": "us-east-1"})
	vm_ok := resource({"type": "aws_instance", "address": "aws_instance.c", "region": "eu-north-1"})
	fs := cloud.deny with input as fx.doc({"config": regions, "plans": [plan([ok, bucket, vm, vm_ok], {})]})
	fx.ids(fs) == ["GOV-CLOUD-004", "GOV-CLOUD-004"]
}

test_cloud_005_unknown_region if {
	r := resource({"region": null, "region_unknown": true})
	fx.ids(cloud.review) == ["GOV-CLOUD-005"] with input as fx.doc({"config": regions, "plans": [plan([r], {})]})
	count(cloud.review) == 0 with input as run([r])
}

test_cloud_006_deletes_and_replaces_counted if {
	cfg := with_cloud({"max_deletes": 1})
	d := resource({"change": "delete", "actions": ["delete"]})
	rp := resource({"change": "replace", "actions": ["delete", "create"], "address": "aws_s3_bucket.x"})
	fs := cloud.review with input as fx.doc({"config": cfg, "plans": [plan([d, rp], {})]})
	fx.ids(fs) == ["GOV-CLOUD-006"]
	count(cloud.review) == 0 with input as fx.doc({"config": cfg, "plans": [plan([d], {})]})
}

test_cloud_007_production_environment_or_account if {
	prod := plan([resource({})], {"environments": ["prod"]})
	fx.ids(cloud.review) == ["GOV-CLOUD-007"] with input as fx.doc({"plans": [prod]})
	acct := plan([resource({})], {"accounts": ["111122223333"]})
	cfg := with_cloud({"production_accounts": ["111122223333"]})
	fx.ids(cloud.review) == ["GOV-CLOUD-007"] with input as fx.doc({"config": cfg, "plans": [acct]})
	noop := plan([resource({"change": "no-op", "actions": ["no-op"]})], {"environments": ["prod"]})
	count(cloud.review) == 0 with input as fx.doc({"plans": [noop]})
}

test_cloud_008_ai_commit_behind_a_destructive_plan if {
	d := resource({"change": "delete", "actions": ["delete"], "file": "infra/plan.tfplan.json", "line": null})
	c := fx.ai_commit("claude-code", "m", {"files": [fx.file("infra/db.tf", 3), fx.file("docs/x.tf", 1)]})
	fs := cloud.review with input as fx.doc({"plans": [plan([d], {})], "commits": [c]})
	fx.ids(fs) == ["GOV-CLOUD-008"]
	human := fx.commit({"files": [fx.file("infra/db.tf", 3)]})
	count(cloud.review) == 0 with input as fx.doc({"plans": [plan([d], {})], "commits": [human]})
	count(cloud.review) == 0 with input as fx.doc({"plans": [plan([resource({})], {})], "commits": [c]})
}
