# The variables of an environment file (infra/envs/<env>.tfvars). This one file is linked into
# every stack (infra/stacks/* and tests/stacks/*), so each phase takes the same rendered file
# with -var-file and `cargo xtask check` can insist that every key of every environment file is
# a variable here.

variable "project_name" {
  description = "Prefix of every cloud name: ECR <project>/<env>/<agent>, runtimes <project>_<env>_<agent>."
  type        = string
  default     = "agentcore"
  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,20}$", var.project_name))
    error_message = "project_name must be 2-21 lower-case letters and digits (it is part of ECR, IAM and runtime names)."
  }
}

variable "environment" {
  description = "dev, staging or production."
  type        = string
  validation {
    condition     = contains(["dev", "staging", "production"], var.environment)
    error_message = "environment must be one of dev, staging, production."
  }
}

variable "aws_region" {
  description = "Where everything is deployed."
  type        = string
}

variable "bedrock_region" {
  description = "Where the agents call Bedrock (may differ from aws_region); set as BEDROCK_REGION in every runtime."
  type        = string
}

variable "ssm_root_path" {
  description = "Root of this environment's SSM parameters, e.g. /platform/dev."
  type        = string
  validation {
    condition     = can(regex("^/[A-Za-z0-9_./-]*[A-Za-z0-9_-]$", var.ssm_root_path))
    error_message = "ssm_root_path must be an absolute SSM path without a trailing slash, e.g. /platform/dev."
  }
}

variable "vpc_id" {
  description = "The VPC, managed by the networking project."
  type        = string
}

variable "private_subnet_ids" {
  description = "Private subnets (with egress) for VPC-mode runtimes."
  type        = list(string)
}

variable "public_subnet_ids" {
  description = "Public subnets, for anything that must be reachable from the internet."
  type        = list(string)
  default     = []
}

variable "isolated_subnet_ids" {
  description = "Subnets without any egress."
  type        = list(string)
  default     = []
}

variable "waf_enabled" {
  description = "Put a WAF web ACL in front of the CloudFront distribution."
  type        = bool
  default     = false
}

variable "cloudfront_enabled" {
  description = "Serve the web bucket through CloudFront."
  type        = bool
  default     = false
}

variable "removal_policy_destroy" {
  description = "true: buckets, tables and repositories may be destroyed with their content (dev). false: they are retained."
  type        = bool
  default     = false
}

variable "log_retention_days" {
  description = "Retention of every log group."
  type        = number
  default     = 30
}

variable "dynamodb_billing_mode" {
  description = "PAY_PER_REQUEST or PROVISIONED."
  type        = string
  default     = "PAY_PER_REQUEST"
  validation {
    condition     = contains(["PAY_PER_REQUEST", "PROVISIONED"], var.dynamodb_billing_mode)
    error_message = "dynamodb_billing_mode must be PAY_PER_REQUEST or PROVISIONED."
  }
}
