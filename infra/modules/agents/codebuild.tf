# The CodeBuild project of the environment, on native ARM: it builds and pushes the agents'
# images from the workspace source uploaded to the platform's source bucket, running the same
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

# ONE project per environment, not one per agent: a commit's agents compile in one cargo
# invocation (shared dependencies once), and the project's S3 cache keeps the target dir and
# cargo's registry between builds, so the next commit recompiles only what changed. The
# xtask's freshness check makes a cached target dir safe with sources whose file times
# (fixed, in the deterministic source zip) say nothing about their content.
resource "aws_iam_role" "codebuild" {
  count              = length(var.agents) > 0 ? 1 : 0
  name               = "${local.prefix}-images-build"
  assume_role_policy = data.aws_iam_policy_document.codebuild_assume.json
  tags               = local.tags
}

resource "aws_cloudwatch_log_group" "codebuild" {
  count             = length(var.agents) > 0 ? 1 : 0
  name              = "/aws/codebuild/${local.prefix}-images"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = local.tags
}

data "aws_iam_policy_document" "codebuild" {
  count = length(var.agents) > 0 ? 1 : 0
  statement {
    sid       = "ReadSource"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = ["arn:${local.partition}:s3:::${var.codebuild_source_bucket}/source/*"]
  }
  statement {
    sid       = "BuildCache"
    actions   = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"]
    resources = ["arn:${local.partition}:s3:::${var.codebuild_source_bucket}/cache/${var.environment}/*"]
  }
  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }
  statement {
    sid = "PushAgentImages"
    actions = [
      "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:CompleteLayerUpload",
      "ecr:DescribeImages", "ecr:InitiateLayerUpload", "ecr:PutImage", "ecr:UploadLayerPart",
    ]
    # The repositories of the agents this environment runs, and no other.
    resources = [for id, _ in var.agents : lookup(var.ecr_repository_arns, id, "")]
  }
  statement {
    sid       = "RecordDigest"
    actions   = ["ssm:GetParameter", "ssm:PutParameter"]
    resources = ["arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter${var.ssm_root_path}/*"]
  }
  statement {
    sid       = "OwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.codebuild[0].arn}:*"]
  }
  statement {
    sid       = "Encryption"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "codebuild" {
  count  = length(var.agents) > 0 ? 1 : 0
  name   = "build"
  role   = aws_iam_role.codebuild[0].id
  policy = data.aws_iam_policy_document.codebuild[0].json
}

resource "aws_codebuild_project" "images" {
  count          = length(var.agents) > 0 ? 1 : 0
  name           = "${local.prefix}-images"
  description    = "Build and push the agents' images (linux/arm64) for ${var.environment}"
  service_role   = aws_iam_role.codebuild[0].arn
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

  cache {
    type     = "S3"
    location = "${var.codebuild_source_bucket}/cache/${var.environment}"
  }

  environment {
    type         = "ARM_CONTAINER"
    compute_type = "BUILD_GENERAL1_LARGE"
    image        = "aws/codebuild/amazonlinux-aarch64-standard:3.0"
    # No Docker daemon needed: the xtask writes and pushes OCI images itself.
    privileged_mode = false

    # Every agent the environment runs; `build-agents --remote ENV AGENT...` overrides it.
    environment_variable {
      name  = "AGENT_IDS"
      value = join(" ", sort(keys(var.agents)))
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
      group_name = aws_cloudwatch_log_group.codebuild[0].name
    }
  }
  tags = local.tags
}
