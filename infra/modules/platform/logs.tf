# The gateway's and memory's vended logs land here, with the environment's retention.
resource "aws_cloudwatch_log_group" "platform" {
  name              = "/${var.project_name}/${var.environment}/platform"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.main.arn
  skip_destroy      = !var.removal_policy_destroy
  tags              = local.tags
}
