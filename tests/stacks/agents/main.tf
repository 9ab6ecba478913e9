# Test stand-in of infra/stacks/agents (see ../platform/main.tf for the rules). Each runtime
# is stood in for by its SSM parameters: the image it pins (whose parameter version plays the
# runtime version) and its ARN; IAM roles, log groups and CodeBuild projects are real.
terraform {
  required_version = ">= 1.10"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }
  backend "s3" {}
}

provider "aws" {
  region      = var.aws_region
  max_retries = 2
  default_tags {
    tags = { ManagedBy = "terraform", Stack = "agents" }
  }
}

data "aws_caller_identity" "current" {}

locals {
  prefix        = "${var.project_name}-${var.environment}"
  account_id    = data.aws_caller_identity.current.account_id
  tags          = { Project = var.project_name, Environment = var.environment }
  runtime_names = { for id, _ in local.enabled_agents : id => "${var.project_name}_${var.environment}_${replace(id, "-", "_")}" }
  runtime_arns = {
    for id, name in local.runtime_names :
    id => "arn:aws:bedrock-agentcore:${var.aws_region}:${local.account_id}:runtime/${name}-${substr(sha1(name), 0, 10)}"
  }
}

# The same check as the real module's variable: digests only, never a tag.
check "images_pinned_by_digest" {
  assert {
    condition     = alltrue([for uri in values(var.agent_images) : can(regex("@sha256:[0-9a-f]{64}$", uri))])
    error_message = "Every agent image must be pinned by digest."
  }
}

resource "aws_ssm_parameter" "image" {
  for_each       = local.enabled_agents
  name           = "${var.ssm_root_path}/agents/${each.key}/image"
  type           = "String"
  insecure_value = lookup(var.agent_images, each.key, "")
  tags           = local.tags

  lifecycle {
    precondition {
      condition     = can(regex("@sha256:[0-9a-f]{64}$", lookup(var.agent_images, each.key, "")))
      error_message = "No image pinned by digest for agent ${each.key}: agent_images must hold every enabled agent as <repository_url>@sha256:<digest>."
    }
    precondition {
      condition     = each.value.network_mode != "VPC" || length(var.private_subnet_ids) > 0
      error_message = "Agent ${each.key} runs in VPC mode but private_subnet_ids is empty in this environment."
    }
  }
}

# The parameter's version as SSM has it after this apply: the resource's own `version` attribute
# keeps its old value in the state after an update (provider 5.x), which the next plan would
# report as an output change. Read after the parameter changed, this one is fresh.
data "aws_ssm_parameter" "image" {
  for_each   = aws_ssm_parameter.image
  name       = each.value.name
  depends_on = [aws_ssm_parameter.image]
}

resource "aws_ssm_parameter" "runtime_arn" {
  for_each       = local.enabled_agents
  name           = "${var.ssm_root_path}/agents/${each.key}/runtime_arn"
  type           = "String"
  insecure_value = local.runtime_arns[each.key]
  tags           = local.tags
}

data "aws_iam_policy_document" "runtime_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["bedrock-agentcore.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "runtime" {
  for_each           = local.enabled_agents
  name               = "${local.prefix}-${each.key}-runtime"
  assume_role_policy = data.aws_iam_policy_document.runtime_assume.json
  tags               = local.tags

  lifecycle {
    precondition {
      condition     = contains(keys(var.ecr_repository_arns), each.key)
      error_message = "No ECR repository for agent ${each.key}: apply the platform stack (it creates one per enabled agent) first."
    }
  }
}

resource "aws_iam_role_policy" "runtime" {
  for_each = local.enabled_agents
  name     = "runtime"
  role     = aws_iam_role.runtime[each.key].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      { Effect = "Allow", Action = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"], Resource = [lookup(var.ecr_repository_arns, each.key, "")] },
      { Effect = "Allow", Action = ["bedrock-agentcore:CreateEvent", "bedrock-agentcore:ListEvents"], Resource = [var.memory_arn] },
      { Effect = "Allow", Action = ["kms:Decrypt"], Resource = [var.kms_key_arn] },
    ]
  })
}

# As infra/modules/agents: one group per endpoint (DEFAULT and live), named by the runtime id.
resource "aws_cloudwatch_log_group" "runtime" {
  for_each          = { for pair in setproduct(keys(local.enabled_agents), ["DEFAULT", "live"]) : "${pair[0]}/${pair[1]}" => { agent = pair[0], endpoint = pair[1] } }
  name              = "/aws/bedrock-agentcore/runtimes/${element(split("/", local.runtime_arns[each.value.agent]), 1)}-${each.value.endpoint}"
  retention_in_days = var.log_retention_days
  tags              = local.tags
}

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
  count              = length(local.enabled_agents) > 0 ? 1 : 0
  name               = "${local.prefix}-images-build"
  assume_role_policy = data.aws_iam_policy_document.codebuild_assume.json
  tags               = local.tags
}

# As infra/modules/agents/codebuild.tf: one project for the environment's images, S3-cached.
resource "aws_codebuild_project" "images" {
  count        = length(local.enabled_agents) > 0 ? 1 : 0
  name         = "${local.prefix}-images"
  service_role = aws_iam_role.codebuild[0].arn

  source {
    type      = "S3"
    location  = "${var.codebuild_source_bucket}/source/${var.project_name}-${var.environment}.zip"
    buildspec = file("${path.root}/../../../infra/buildspec.yml")
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
    environment_variable {
      name  = "AGENT_IDS"
      value = join(" ", sort(keys(local.enabled_agents)))
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
  tags = local.tags
}
