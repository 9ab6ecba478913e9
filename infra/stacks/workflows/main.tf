# Phase 4: the workflows that chain the agents, and what starts them.
terraform {
  required_version = ">= 1.10"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.48"
    }
  }
  # key = "<env>/workflows.tfstate"
  backend "s3" {}
}

provider "aws" {
  region = var.aws_region
  default_tags {
    tags = { ManagedBy = "terraform", Stack = "workflows" }
  }
}

module "workflows" {
  source = "../../modules/workflows"

  project_name       = var.project_name
  environment        = var.environment
  ssm_root_path      = var.ssm_root_path
  workflows          = local.workflows
  agent_runtime_arns = var.agent_runtime_arns
  kms_key_arn        = var.kms_key_arn
  log_retention_days = var.log_retention_days
}
