data "aws_iam_policy_document" "agentcore_assume" {
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
  }
}

# The gateway signs its calls to targets (agent runtimes serving MCP) with this role.
resource "aws_iam_role" "gateway" {
  name               = "${local.prefix}-gateway"
  assume_role_policy = data.aws_iam_policy_document.agentcore_assume.json
  tags               = local.tags
}

data "aws_iam_policy_document" "gateway" {
  statement {
    actions   = ["bedrock-agentcore:InvokeAgentRuntime"]
    resources = ["arn:${local.partition}:bedrock-agentcore:${local.region}:${local.account_id}:runtime/${replace(local.prefix, "-", "_")}_*"]
  }
  statement {
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.main.arn]
  }
}

resource "aws_iam_role_policy" "gateway" {
  role   = aws_iam_role.gateway.id
  policy = data.aws_iam_policy_document.gateway.json
}

resource "aws_bedrockagentcore_gateway" "main" {
  name            = "${local.prefix}-gateway"
  description     = "Tools for the ${var.environment} agents (MCP)"
  role_arn        = aws_iam_role.gateway.arn
  authorizer_type = "AWS_IAM"
  protocol_type   = "MCP"
  kms_key_arn     = aws_kms_key.main.arn
  tags            = local.tags
}

# Memory strategies that extract with a model run as this role, in the Bedrock region.
resource "aws_iam_role" "memory" {
  name               = "${local.prefix}-memory"
  assume_role_policy = data.aws_iam_policy_document.agentcore_assume.json
  tags               = local.tags
}

resource "aws_iam_role_policy_attachment" "memory" {
  role       = aws_iam_role.memory.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AmazonBedrockAgentCoreMemoryBedrockModelInferenceExecutionRolePolicy"
}

resource "aws_bedrockagentcore_memory" "main" {
  # Memory names allow letters, digits and `_` only.
  name                      = replace("${local.prefix}_memory", "-", "_")
  description               = "Conversation memory of the ${var.environment} agents"
  event_expiry_duration     = var.memory_event_expiry_days
  encryption_key_arn        = aws_kms_key.main.arn
  memory_execution_role_arn = aws_iam_role.memory.arn
  tags                      = local.tags
}
