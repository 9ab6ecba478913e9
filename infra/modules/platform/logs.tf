# The gateway's and memory's vended logs land here, with the environment's retention.
resource "aws_cloudwatch_log_group" "platform" {
  name              = "/${var.project_name}/${var.environment}/platform"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.main.arn
  skip_destroy      = !var.removal_policy_destroy
  tags              = local.tags
}

# The memory's and the gateway's vended logs and traces (AgentCore developer guide, "Enabling
# observability for AgentCore runtime, memory, gateway, built-in tools, and identity
# resources"): CloudWatch Logs' vended-log delivery, a source per resource and log type,
# APPLICATION_LOGS into the group above and TRACES into X-Ray (the spans CloudWatch's
# Transaction Search shows beside the agents' own).
locals {
  vended_log_sources = {
    memory-logs    = { resource_arn = aws_bedrockagentcore_memory.main.arn, log_type = "APPLICATION_LOGS", destination = "logs" }
    memory-traces  = { resource_arn = aws_bedrockagentcore_memory.main.arn, log_type = "TRACES", destination = "xray" }
    gateway-logs   = { resource_arn = aws_bedrockagentcore_gateway.main.gateway_arn, log_type = "APPLICATION_LOGS", destination = "logs" }
    gateway-traces = { resource_arn = aws_bedrockagentcore_gateway.main.gateway_arn, log_type = "TRACES", destination = "xray" }
  }
}

resource "aws_cloudwatch_log_delivery_destination" "platform_logs" {
  name = "${local.prefix}-platform-logs"
  delivery_destination_configuration {
    destination_resource_arn = aws_cloudwatch_log_group.platform.arn
  }
  tags = local.tags
}

resource "aws_cloudwatch_log_delivery_destination" "platform_xray" {
  name                      = "${local.prefix}-platform-xray"
  delivery_destination_type = "XRAY"
  tags                      = local.tags
}

resource "aws_cloudwatch_log_delivery_source" "platform" {
  for_each     = local.vended_log_sources
  name         = "${local.prefix}-${each.key}"
  log_type     = each.value.log_type
  resource_arn = each.value.resource_arn
  tags         = local.tags
}

resource "aws_cloudwatch_log_delivery" "platform" {
  for_each                 = local.vended_log_sources
  delivery_source_name     = aws_cloudwatch_log_delivery_source.platform[each.key].name
  delivery_destination_arn = each.value.destination == "xray" ? aws_cloudwatch_log_delivery_destination.platform_xray.arn : aws_cloudwatch_log_delivery_destination.platform_logs.arn
  tags                     = local.tags
}
