# Phase 3: the agents' runtimes, pinned to the digests the images phase pushed.
terraform {
  required_version = ">= 1.10"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.48"
    }
  }
  # key = "<env>/agents.tfstate"
  backend "s3" {}
}

provider "aws" {
  region = var.aws_region
  default_tags {
    tags = { ManagedBy = "terraform", Stack = "agents" }
  }
}

provider "aws" {
  alias  = "bedrock"
  region = var.bedrock_region
}

module "agents" {
  source = "../../modules/agents"
  providers = {
    aws         = aws
    aws.bedrock = aws.bedrock
  }

  project_name            = var.project_name
  environment             = var.environment
  ssm_root_path           = var.ssm_root_path
  agents                  = local.enabled_agents
  agent_images            = var.agent_images
  ecr_repository_arns     = var.ecr_repository_arns
  kms_key_arn             = var.kms_key_arn
  gateway_id              = var.gateway_id
  gateway_arn             = var.gateway_arn
  gateway_url             = var.gateway_url
  memory_id               = var.memory_id
  memory_arn              = var.memory_arn
  agent_security_group_id = var.agent_security_group_id
  private_subnet_ids      = var.private_subnet_ids
  codebuild_source_bucket = var.codebuild_source_bucket
  buildspec               = file("${path.root}/../../buildspec.yml")
  log_retention_days      = var.log_retention_days
}
