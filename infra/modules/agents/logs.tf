# What AgentCore itself records of each runtime, delivered through CloudWatch Logs' vended-log
# delivery (AgentCore developer guide, "Enabling observability for AgentCore runtime, memory,
# gateway, built-in tools, and identity resources"): APPLICATION_LOGS (the platform's record of
# each invocation) and USAGE_LOGS (a session's vCPU and memory use) into a group per agent,
# TRACES (the platform's spans, parents of the agent's own) into X-Ray — the three log types
# AWS CDK's vended-log builders offer for AWS::BedrockAgentCore::Runtime (CfnRuntime
# ApplicationLogs/UsageLogs/Traces, the last to X-Ray only). The agent's stdout
# needs none of this: the runtime ships it to /aws/bedrock-agentcore/runtimes/… (main.tf).

locals {
  runtime_log_types = {
    application-logs = { log_type = "APPLICATION_LOGS", destination = "logs" }
    usage-logs       = { log_type = "USAGE_LOGS", destination = "logs" }
    traces           = { log_type = "TRACES", destination = "xray" }
  }
  runtime_log_sources = merge([
    for id, _ in var.agents : {
      for key, kind in local.runtime_log_types : "${id}/${key}" => merge(kind, { agent = id, key = key })
    }
  ]...)
}

# Under /aws/vendedlogs/ CloudWatch Logs keeps one resource policy for every delivery, instead
# of one per log group (a policy per account and region is limited to 10).
resource "aws_cloudwatch_log_group" "vended" {
  for_each          = var.agents
  name              = "/aws/vendedlogs/bedrock-agentcore/${local.prefix}/${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = merge(local.tags, { Agent = each.key })
}

resource "aws_cloudwatch_log_delivery_destination" "runtime_logs" {
  for_each = var.agents
  name     = "${local.prefix}-${each.key}-logs"
  delivery_destination_configuration {
    destination_resource_arn = aws_cloudwatch_log_group.vended[each.key].arn
  }
  tags = merge(local.tags, { Agent = each.key })
}

resource "aws_cloudwatch_log_delivery_destination" "runtime_xray" {
  name                      = "${local.prefix}-agents-xray"
  delivery_destination_type = "XRAY"
  tags                      = local.tags
}

resource "aws_cloudwatch_log_delivery_source" "runtime" {
  for_each     = local.runtime_log_sources
  name         = "${local.prefix}-${each.value.agent}-${each.value.key}"
  log_type     = each.value.log_type
  resource_arn = aws_bedrockagentcore_agent_runtime.agent[each.value.agent].agent_runtime_arn
  tags         = merge(local.tags, { Agent = each.value.agent })
}

resource "aws_cloudwatch_log_delivery" "runtime" {
  for_each                 = local.runtime_log_sources
  delivery_source_name     = aws_cloudwatch_log_delivery_source.runtime[each.key].name
  delivery_destination_arn = each.value.destination == "xray" ? aws_cloudwatch_log_delivery_destination.runtime_xray.arn : aws_cloudwatch_log_delivery_destination.runtime_logs[each.value.agent].arn
  tags                     = merge(local.tags, { Agent = each.value.agent })
}
