data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  prefix     = "${var.project_name}-${var.environment}"
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.region
  tags       = merge(var.tags, { Project = var.project_name, Environment = var.environment })
}

resource "aws_cloudwatch_log_group" "workflow" {
  for_each          = var.workflows
  name              = "/aws/vendedlogs/states/${local.prefix}-${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = merge(local.tags, { Workflow = each.key })
}

data "aws_iam_policy_document" "states_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["states.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "workflow" {
  for_each           = var.workflows
  name               = "${local.prefix}-${each.key}-sfn"
  assume_role_policy = data.aws_iam_policy_document.states_assume.json
  tags               = merge(local.tags, { Workflow = each.key })
}

# A workflow may invoke exactly the agents it names, and write its own logs.
data "aws_iam_policy_document" "workflow" {
  for_each = var.workflows
  statement {
    sid     = "InvokeNamedAgents"
    actions = ["bedrock-agentcore:InvokeAgentRuntime"]
    resources = flatten([
      for id in each.value.agents : [var.agent_runtime_arns[id], "${var.agent_runtime_arns[id]}/runtime-endpoint/*"]
    ])
  }
  statement {
    sid = "LogDelivery"
    actions = [
      "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
      "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
    ]
    resources = ["*"]
  }
  statement {
    sid       = "Encryption"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }
  statement {
    sid       = "Traces"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "workflow" {
  for_each = var.workflows
  name     = "workflow"
  role     = aws_iam_role.workflow[each.key].id
  policy   = data.aws_iam_policy_document.workflow[each.key].json
}

resource "aws_sfn_state_machine" "workflow" {
  for_each   = var.workflows
  name       = "${local.prefix}-${each.key}"
  role_arn   = aws_iam_role.workflow[each.key].arn
  definition = each.value.definition
  type       = "STANDARD"

  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.workflow[each.key].arn}:*"
    include_execution_data = var.environment != "production"
    level                  = "ERROR"
  }
  encryption_configuration {
    type                              = "CUSTOMER_MANAGED_KMS_KEY"
    kms_key_id                        = var.kms_key_arn
    kms_data_key_reuse_period_seconds = 300
  }
  tracing_configuration {
    enabled = true
  }
  tags = merge(local.tags, { Workflow = each.key })
}

resource "aws_ssm_parameter" "state_machine_arn" {
  for_each = aws_sfn_state_machine.workflow
  name     = "${var.ssm_root_path}/workflows/${each.key}/state_machine_arn"
  type     = "String"
  value    = each.value.arn
  tags     = local.tags
}
