data "aws_iam_policy_document" "runtime_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["bedrock-agentcore.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:bedrock-agentcore:${local.region}:${local.account_id}:*"]
    }
  }
}

resource "aws_iam_role" "runtime" {
  for_each           = var.agents
  name               = "${local.prefix}-${each.key}-runtime"
  assume_role_policy = data.aws_iam_policy_document.runtime_assume.json
  tags               = merge(local.tags, { Agent = each.key })

  lifecycle {
    precondition {
      condition     = contains(keys(var.ecr_repository_arns), each.key)
      error_message = "No ECR repository for agent ${each.key}: apply the platform stack (it creates one per enabled agent) first."
    }
  }
}

# Least privilege: its own image, its model in the Bedrock region, the shared memory and the
# gateway (each for an agent whose blueprint uses it), its own log group, and the environment's
# parameters.
data "aws_iam_policy_document" "runtime" {
  for_each = var.agents

  statement {
    sid       = "PullOwnImage"
    actions   = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    resources = [lookup(var.ecr_repository_arns, each.key, "")]
  }
  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }
  statement {
    sid = "InvokeOwnModel"
    actions = [
      "bedrock:InvokeModel",
      "bedrock:InvokeModelWithResponseStream",
    ]
    resources = local.model_arns[each.key]
  }
  # What agentcore-runtime's memory module calls: a session's events written and read back,
  # the strategies' records retrieved.
  dynamic "statement" {
    for_each = each.value.memory ? [var.memory_arn] : []
    content {
      sid = "Memory"
      actions = [
        "bedrock-agentcore:CreateEvent",
        "bedrock-agentcore:ListEvents",
        "bedrock-agentcore:RetrieveMemoryRecords",
      ]
      resources = [statement.value]
    }
  }
  # The gateway's tools (agentcore-runtime's gateway client), for an agent whose blueprint
  # names them; which targets is the agent's choice (AGENTCORE_GATEWAY_TARGETS): the
  # gateway's IAM authorizer authorizes the gateway, not a tool.
  dynamic "statement" {
    for_each = each.value.gateway_targets != "" ? [var.gateway_arn] : []
    content {
      sid       = "Gateway"
      actions   = ["bedrock-agentcore:InvokeGateway"]
      resources = [statement.value]
    }
  }
  statement {
    sid       = "WorkloadIdentity"
    actions   = ["bedrock-agentcore:GetWorkloadAccessToken", "bedrock-agentcore:GetWorkloadAccessTokenForJWT", "bedrock-agentcore:GetWorkloadAccessTokenForUserId"]
    resources = ["arn:${local.partition}:bedrock-agentcore:${local.region}:${local.account_id}:workload-identity-directory/default/workload-identity/${local.runtime_names[each.key]}-*"]
  }
  statement {
    sid       = "OwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = [for endpoint in ["DEFAULT", "live"] : "${aws_cloudwatch_log_group.runtime["${each.key}/${endpoint}"].arn}:*"]
  }
  statement {
    sid       = "Metrics"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = ["bedrock-agentcore"]
    }
  }
  # X-Ray as the AgentCore runtime's execution role needs it (developer guide, "IAM
  # permissions for AgentCore Runtime"): segments, telemetry, and the sampling rules.
  statement {
    sid = "Traces"
    actions = [
      "xray:PutTraceSegments",
      "xray:PutTelemetryRecords",
      "xray:GetSamplingRules",
      "xray:GetSamplingTargets",
    ]
    resources = ["*"]
  }
  statement {
    sid       = "Parameters"
    actions   = ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"]
    resources = ["arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter${var.ssm_root_path}/*"]
  }
  statement {
    sid       = "Decrypt"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "runtime" {
  for_each = var.agents
  name     = "runtime"
  role     = aws_iam_role.runtime[each.key].id
  policy   = data.aws_iam_policy_document.runtime[each.key].json
}
