data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

data "aws_region" "bedrock" {
  provider = aws.bedrock
}

locals {
  prefix     = "${var.project_name}-${var.environment}"
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.region
  tags       = merge(var.tags, { Project = var.project_name, Environment = var.environment })
}

# One customer-managed key for the environment's data at rest: buckets, table, ECR, logs,
# gateway and memory. CloudWatch Logs may use it only for this account's log groups.
data "aws_iam_policy_document" "kms" {
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }
  statement {
    sid       = "CloudWatchLogs"
    actions   = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:*"]
    }
  }
}

resource "aws_kms_key" "main" {
  description             = "${local.prefix}: data at rest"
  enable_key_rotation     = true
  deletion_window_in_days = var.removal_policy_destroy ? 7 : 30
  policy                  = data.aws_iam_policy_document.kms.json
  tags                    = local.tags
}

resource "aws_kms_alias" "main" {
  name          = "alias/${local.prefix}"
  target_key_id = aws_kms_key.main.key_id
}

# Agent state shared across sessions (pk/sk); conversation memory itself is AgentCore Memory.
resource "aws_dynamodb_table" "state" {
  name                        = "${local.prefix}-state"
  billing_mode                = var.dynamodb_billing_mode
  read_capacity               = var.dynamodb_billing_mode == "PROVISIONED" ? 5 : null
  write_capacity              = var.dynamodb_billing_mode == "PROVISIONED" ? 5 : null
  hash_key                    = "pk"
  range_key                   = "sk"
  deletion_protection_enabled = !var.removal_policy_destroy

  attribute {
    name = "pk"
    type = "S"
  }
  attribute {
    name = "sk"
    type = "S"
  }
  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }
  point_in_time_recovery {
    enabled = !var.removal_policy_destroy
  }
  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.main.arn
  }
  tags = local.tags
}
