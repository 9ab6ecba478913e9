# Phase 1: the platform every agent of the environment stands on.
terraform {
  required_version = ">= 1.10"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.48"
    }
  }
  # bucket/region/encrypt/use_lockfile from infra/envs/<env>.backend.hcl,
  # key = "<env>/platform.tfstate" (see infra/README.md).
  backend "s3" {}
}

provider "aws" {
  region = var.aws_region
  default_tags {
    tags = { ManagedBy = "terraform", Stack = "platform" }
  }
}

provider "aws" {
  alias  = "bedrock"
  region = var.bedrock_region
}

provider "aws" {
  alias  = "us_east_1"
  region = "us-east-1"
}

module "platform" {
  source = "../../modules/platform"
  providers = {
    aws           = aws
    aws.bedrock   = aws.bedrock
    aws.us_east_1 = aws.us_east_1
  }

  project_name           = var.project_name
  environment            = var.environment
  ssm_root_path          = var.ssm_root_path
  vpc_id                 = var.vpc_id
  agent_ids              = toset(keys(local.blueprints))
  waf_enabled            = var.waf_enabled
  cloudfront_enabled     = var.cloudfront_enabled
  removal_policy_destroy = var.removal_policy_destroy
  log_retention_days     = var.log_retention_days
  dynamodb_billing_mode  = var.dynamodb_billing_mode
}
