package govops.rules.models_test

import data.govops.fixtures as fx
import data.govops.rules.models
import rego.v1

on := object.union(fx.config, {"models": {"enabled": true, "registries": ["s3://models"]}})

isvc(uri) := fx.manifest({
	"kind": "InferenceService",
	"annotations": {"govops.dev/model-card": "card"},
	"object": {"spec": {"predictor": {"model": {"storageUri": uri}}}},
})

run(m) := fs if {
	fs := models.deny with input as object.union(fx.doc({"manifests": [m]}), {"config": on})
}

reviews(m) := fs if {
	fs := models.review with input as object.union(fx.doc({"manifests": [m]}), {"config": on})
}

test_prefix_on_a_boundary if {
	count(run(isvc("s3://models/a"))) == 0
	count(run(isvc("S3://models"))) == 0
	fx.ids(run(isvc("s3://models-evil/a"))) == ["GOV-MODEL-001"]
	fx.ids(run(isvc("s3://models/./a"))) == ["GOV-MODEL-001"]
	fx.ids(run(isvc("s3://models/%2E%2E/a"))) == ["GOV-MODEL-001"]
}

test_non_string_uri_is_unknown if {
	fx.ids(reviews(isvc(7))) == ["GOV-MODEL-003"]
	count(run(isvc(7))) == 0
}

test_empty_card_is_missing if {
	m := object.union(isvc("s3://models/a"), {"annotations": {"govops.dev/model-card": " "}})
	fx.ids(run(m)) == ["GOV-MODEL-002"]
}

test_storage_spec_is_unknown if {
	m := fx.manifest({
		"kind": "InferenceService",
		"annotations": {"govops.dev/model-card": "card"},
		"object": {"spec": {"predictor": {"model": {"storage": {"key": "s3-models", "path": "m/1"}}}}},
	})
	fx.ids(reviews(m)) == ["GOV-MODEL-003"]
	count(run(m)) == 0
}
