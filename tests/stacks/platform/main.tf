# Test stand-in of infra/stacks/platform: the same variables, outputs, SSM parameters and state
# key, built only from what hashicorp/aws 5.100.0 and moto both handle. The AgentCore gateway
# and memory, the security group and the edge (WAF, CloudFront) are stood in for by SSM
# parameters; everything else is the real resource. Endpoints come from AWS_ENDPOINT_URL.
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
  region = var.aws_region
  # An unimplemented call must fail fast instead of being retried for minutes.
  max_retries = 2
  # moto serves S3 on one host: path-style addressing.
  s3_use_path_style = true
  default_tags {
    tags = { ManagedBy = "terraform", Stack = "platform" }
  }
}

data "aws_caller_identity" "current" {}

locals {
  prefix     = "${var.project_name}-${var.environment}"
  account_id = data.aws_caller_identity.current.account_id
  tags       = { Project = var.project_name, Environment = var.environment }
  agent_ids  = toset(keys(local.blueprints)) # every agent, as infra/stacks/platform
}

resource "aws_kms_key" "main" {
  description             = "${local.prefix}: data at rest"
  enable_key_rotation     = true
  deletion_window_in_days = 7
  tags                    = local.tags
}

resource "aws_kms_alias" "main" {
  name          = "alias/${local.prefix}"
  target_key_id = aws_kms_key.main.key_id
}

resource "aws_dynamodb_table" "state" {
  name         = "${local.prefix}-state"
  billing_mode = var.dynamodb_billing_mode
  hash_key     = "pk"
  range_key    = "sk"
  attribute {
    name = "pk"
    type = "S"
  }
  attribute {
    name = "sk"
    type = "S"
  }
  tags = local.tags
}

resource "aws_s3_bucket" "this" {
  for_each = {
    artifacts        = "${local.prefix}-artifacts-${local.account_id}"
    codebuild_source = "${local.prefix}-codebuild-src-${local.account_id}"
  }
  bucket        = each.value
  force_destroy = true
  tags          = local.tags
}

resource "aws_s3_bucket_versioning" "this" {
  for_each = aws_s3_bucket.this
  bucket   = each.value.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  for_each = aws_s3_bucket.this
  bucket   = each.value.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.main.arn
    }
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each                = aws_s3_bucket.this
  bucket                  = each.value.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_ecr_repository" "agent" {
  for_each             = local.agent_ids
  name                 = "${var.project_name}/${var.environment}/${each.key}"
  image_tag_mutability = "IMMUTABLE"
  force_delete         = true
  image_scanning_configuration {
    scan_on_push = true
  }
  tags = merge(local.tags, { Agent = each.key })
}

resource "aws_ecr_lifecycle_policy" "agent" {
  for_each   = aws_ecr_repository.agent
  repository = each.value.name
  policy = jsonencode({
    rules = [{
      rulePriority = 1
      description  = "keep the newest 50 images"
      selection    = { tagStatus = "any", countType = "imageCountMoreThan", countNumber = 50 }
      action       = { type = "expire" }
    }]
  })
}

resource "aws_cloudwatch_log_group" "platform" {
  name              = "/${var.project_name}/${var.environment}/platform"
  retention_in_days = var.log_retention_days
  tags              = local.tags
}

locals {
  # Stand-ins for what provider 5.100.0 cannot create (AgentCore, needs 6.x) or moto cannot
  # serve (security group in an external VPC): same names and shapes as the real outputs.
  gateway_id = "${local.prefix}-gateway-0000000000"
  memory_id  = "${replace(local.prefix, "-", "_")}_memory-0000000000"

  scalar_outputs = {
    kms_key_arn             = aws_kms_key.main.arn
    dynamodb_table_name     = aws_dynamodb_table.state.name
    dynamodb_table_arn      = aws_dynamodb_table.state.arn
    artifacts_bucket        = aws_s3_bucket.this["artifacts"].id
    codebuild_source_bucket = aws_s3_bucket.this["codebuild_source"].id
    gateway_id              = local.gateway_id
    gateway_arn             = "arn:aws:bedrock-agentcore:${var.aws_region}:${local.account_id}:gateway/${local.gateway_id}"
    gateway_url             = "https://${local.gateway_id}.gateway.bedrock-agentcore.${var.aws_region}.amazonaws.com/mcp"
    memory_id               = local.memory_id
    memory_arn              = "arn:aws:bedrock-agentcore:${var.aws_region}:${local.account_id}:memory/${local.memory_id}"
    agent_security_group_id = "sg-0${substr(sha1(local.prefix), 0, 16)}"
    platform_log_group      = aws_cloudwatch_log_group.platform.name
    bedrock_region          = var.bedrock_region
    web_distribution_domain = "none"
  }
}

resource "aws_ssm_parameter" "output" {
  for_each       = local.scalar_outputs
  name           = "${var.ssm_root_path}/platform/${each.key}"
  type           = "String"
  insecure_value = each.value
  tags           = local.tags
}

resource "aws_ssm_parameter" "repository_url" {
  for_each       = aws_ecr_repository.agent
  name           = "${var.ssm_root_path}/ecr/${each.key}/repository_url"
  type           = "String"
  insecure_value = each.value.repository_url
  tags           = local.tags
}
