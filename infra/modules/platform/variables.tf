variable "project_name" {
  description = "Prefix of every name."
  type        = string
}

variable "environment" {
  description = "dev, staging or production."
  type        = string
}

variable "ssm_root_path" {
  description = "Every output is also written as an SSM parameter under <ssm_root_path>/platform/."
  type        = string
}

variable "vpc_id" {
  description = "The VPC the agent security group belongs to."
  type        = string
}

variable "agent_ids" {
  description = "Every agent of the workspace, enabled here or not: one ECR repository each, so that a repository outlives the agent's runtime and promotion can copy into it before the runtime exists."
  type        = set(string)
}

variable "waf_enabled" {
  description = "Put a WAF web ACL in front of the CloudFront distribution (needs cloudfront_enabled)."
  type        = bool
}

variable "cloudfront_enabled" {
  description = "Serve the web bucket through CloudFront."
  type        = bool
}

variable "removal_policy_destroy" {
  description = "Allow destroying buckets, tables, repositories and keys with their content."
  type        = bool
}

variable "log_retention_days" {
  description = "Retention of the platform's log groups."
  type        = number
}

variable "dynamodb_billing_mode" {
  description = "PAY_PER_REQUEST or PROVISIONED."
  type        = string
}

variable "memory_event_expiry_days" {
  description = "How long AgentCore Memory keeps raw events (7-365)."
  type        = number
  default     = 30
}

variable "ecr_keep_images" {
  description = "How many images each ECR repository keeps (the oldest beyond are expired)."
  type        = number
  default     = 50
}

variable "tags" {
  description = "Tags on every resource."
  type        = map(string)
  default     = {}
}
