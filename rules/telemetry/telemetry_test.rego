package govops.rules.telemetry_test

import data.govops.fixtures as fx
import data.govops.rules.telemetry
import rego.v1

on := object.union(fx.config, {"telemetry": {"enabled": true}})

pod(annotations, env) := fx.manifest({
	"kind": "Pod",
	"environment": "prod",
	"object": {"metadata": {"annotations": annotations}, "spec": {"containers": [{"name": "c", "env": env}]}},
})

# Findings of every set.
run(m) := fs if {
	doc := object.union(fx.doc({"manifests": [m]}), {"config": on})
	fs := (telemetry.deny | telemetry.review) with input as doc
}

test_operator_annotations_set_attributes_when_injected if {
	m := pod(
		{
			"instrumentation.opentelemetry.io/inject-java": "true",
			"resource.opentelemetry.io/service.name": "api",
			"resource.opentelemetry.io/deployment.environment.name": "prod",
		},
		[],
	)
	count(run(m)) == 0
}

test_operator_annotations_ignored_without_injection if {
	m := pod({"resource.opentelemetry.io/service.name": "api", "resource.opentelemetry.io/deployment.environment.name": "prod"}, [])
	fs := run(m)
	count(fs) == 2
	{f.id | some f in fs} == {"GOV-OTEL-001"}
}

test_deprecated_environment_key_is_read_and_judged if {
	m := pod({}, [{"name": "OTEL_RESOURCE_ATTRIBUTES", "value": "service.name=api,deployment.environment=dev"}])
	fs := run(m)
	fx.ids(fs) == ["GOV-OTEL-002"]
}

test_empty_and_non_string_values if {
	m := pod({}, [{"name": "OTEL_SERVICE_NAME", "value": ""}, {"name": "OTEL_RESOURCE_ATTRIBUTES", "value": 7}])
	fs := run(m)
	ids := sort([f.id | some f in fs])
	ids == ["GOV-OTEL-003", "GOV-OTEL-003"]
	# A value known only at run time is a review, not a deny.
	doc := object.union(fx.doc({"manifests": [m]}), {"config": on})
	count(telemetry.deny) == 0 with input as doc
}

test_plus_is_not_a_space if {
	m := pod({}, [{"name": "OTEL_RESOURCE_ATTRIBUTES", "value": "service.name=a+pi,deployment.environment.name=prod"}])
	fx.ids(run(m)) == ["GOV-OTEL-002"]
}
