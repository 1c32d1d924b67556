# Resource types that cannot carry tags (or labels): their resources are not
# GOV-CLOUD-001..003 findings. Exact types, then globs for whole families
# (attachments, associations, IAM bindings, bucket sub-configurations).
# A team adds its own with `cloud.untaggable` in the config.
package govops.rules.cloud

import rego.v1

untaggable_types := {
	# AWS
	"aws_iam_role_policy", "aws_iam_user_policy", "aws_iam_group_policy",
	"aws_iam_group_membership", "aws_iam_user_group_membership",
	"aws_iam_account_password_policy", "aws_iam_account_alias",
	"aws_s3_bucket_policy", "aws_s3_bucket_public_access_block", "aws_s3_bucket_versioning",
	"aws_s3_bucket_server_side_encryption_configuration", "aws_s3_bucket_acl",
	"aws_s3_bucket_ownership_controls", "aws_s3_bucket_lifecycle_configuration",
	"aws_s3_bucket_logging", "aws_s3_bucket_cors_configuration",
	"aws_s3_bucket_website_configuration", "aws_s3_bucket_notification",
	"aws_s3_bucket_replication_configuration", "aws_s3_account_public_access_block",
	"aws_route", "aws_security_group_rule", "aws_volume_attachment",
	"aws_route53_record", "aws_lambda_permission", "aws_lambda_alias",
	"aws_lambda_function_url", "aws_cloudwatch_log_subscription_filter",
	"aws_cloudwatch_event_target", "aws_sns_topic_subscription", "aws_sns_topic_policy",
	"aws_sqs_queue_policy", "aws_kms_alias", "aws_ecr_lifecycle_policy",
	"aws_ecr_repository_policy", "aws_secretsmanager_secret_version",
	"aws_secretsmanager_secret_policy", "aws_ebs_encryption_by_default",
	"aws_eip_association", "aws_proxy_protocol_policy", "aws_lb_cookie_stickiness_policy",
	"aws_autoscaling_policy", "aws_autoscaling_lifecycle_hook", "aws_autoscaling_schedule",
	"aws_api_gateway_method", "aws_api_gateway_integration", "aws_api_gateway_resource",
	"aws_api_gateway_deployment", "aws_api_gateway_method_response",
	"aws_api_gateway_integration_response", "aws_api_gateway_account",
	# Azure
	"azurerm_role_assignment", "azurerm_role_definition", "azurerm_subnet",
	"azurerm_network_security_rule", "azurerm_key_vault_access_policy",
	"azurerm_storage_container", "azurerm_management_lock",
	"azurerm_virtual_network_peering", "azurerm_mssql_firewall_rule",
	"azurerm_postgresql_flexible_server_configuration",
	"azurerm_postgresql_flexible_server_firewall_rule", "azurerm_monitor_diagnostic_setting",
	# Google
	"google_service_account", "google_service_account_key", "google_project_service",
	"google_compute_firewall", "google_compute_route", "google_compute_subnetwork",
	"google_compute_network", "google_compute_router", "google_compute_router_nat",
	"google_dns_record_set", "google_sql_user", "google_sql_database",
	"google_storage_bucket_object", "google_storage_bucket_acl",
}

untaggable_globs := [
	"aws_*_policy_attachment", "aws_*_association", "aws_*_attachment",
	"azurerm_*_association", "azurerm_*_attachment",
	"google_*_iam_member", "google_*_iam_binding", "google_*_iam_policy",
	"google_*_iam_audit_config",
]
