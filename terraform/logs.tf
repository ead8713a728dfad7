resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_338:retention is the log_retention_days input (default 30 days): the group holds nocbox's own operational output, not the device logs, which are forwarded to Datadog; set 365 or more where a policy requires it
  #checkov:skip=CKV_AWS_158:a customer-managed KMS key is optional (log_kms_key_arn) because its key policy must be written for the CloudWatch Logs service principal; without it CloudWatch Logs encrypts the group with its own keys, and no secret is ever logged
  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn

  tags = var.tags
}
