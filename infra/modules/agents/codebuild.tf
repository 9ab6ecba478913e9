# One CodeBuild project per agent, on native ARM: it builds and pushes the agent's image from
# the workspace source uploaded to the platform's source bucket, running the same
# `cargo xtask build-agents --push` as a developer machine does (infra/buildspec.yml).

data "aws_iam_policy_document" "codebuild_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["codebuild.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "codebuild" {
  for_each           = var.agents
  name               = "${local.prefix}-${each.key}-build"
  assume_role_policy = data.aws_iam_policy_document.codebuild_assume.json
  tags               = merge(local.tags, { Agent = each.key })
}

resource "aws_cloudwatch_log_group" "codebuild" {
  for_each          = var.agents
  name              = "/aws/codebuild/${local.prefix}-${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = merge(local.tags, { Agent = each.key })
}

data "aws_iam_policy_document" "codebuild" {
  for_each = var.agents
  statement {
    sid       = "ReadSource"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = ["arn:${local.partition}:s3:::${var.codebuild_source_bucket}/source/*"]
  }
  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }
  statement {
    sid = "PushOwnImage"
    actions = [
      "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:CompleteLayerUpload",
      "ecr:DescribeImages", "ecr:InitiateLayerUpload", "ecr:PutImage", "ecr:UploadLayerPart",
    ]
    resources = [lookup(var.ecr_repository_arns, each.key, "")]
  }
  statement {
    sid       = "RecordDigest"
    actions   = ["ssm:GetParameter", "ssm:PutParameter"]
    resources = ["arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter${var.ssm_root_path}/*"]
  }
  statement {
    sid       = "OwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.codebuild[each.key].arn}:*"]
  }
  statement {
    sid       = "Encryption"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "codebuild" {
  for_each = var.agents
  name     = "build"
  role     = aws_iam_role.codebuild[each.key].id
  policy   = data.aws_iam_policy_document.codebuild[each.key].json
}

resource "aws_codebuild_project" "agent" {
  for_each       = var.agents
  name           = "${local.prefix}-${each.key}"
  description    = "Build and push the ${each.key} image (linux/arm64) for ${var.environment}"
  service_role   = aws_iam_role.codebuild[each.key].arn
  encryption_key = var.kms_key_arn
  build_timeout  = 60

  source {
    type      = "S3"
    location  = "${var.codebuild_source_bucket}/source/${var.project_name}-${var.environment}.zip"
    buildspec = var.buildspec
  }

  artifacts {
    type = "NO_ARTIFACTS"
  }

  environment {
    type         = "ARM_CONTAINER"
    compute_type = "BUILD_GENERAL1_LARGE"
    image        = "aws/codebuild/amazonlinux-aarch64-standard:3.0"
    # No Docker daemon needed: the xtask writes and pushes OCI images itself.
    privileged_mode = false

    environment_variable {
      name  = "AGENT_ID"
      value = each.key
    }
    environment_variable {
      name  = "DEPLOY_ENV"
      value = var.environment
    }
    environment_variable {
      name  = "SSM_ROOT_PATH"
      value = var.ssm_root_path
    }
  }

  logs_config {
    cloudwatch_logs {
      group_name = aws_cloudwatch_log_group.codebuild[each.key].name
    }
  }
  tags = merge(local.tags, { Agent = each.key })
}
