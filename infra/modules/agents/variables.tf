variable "project_name" {
  description = "Prefix of every name."
  type        = string
}

variable "environment" {
  description = "dev, staging or production."
  type        = string
}

variable "ssm_root_path" {
  description = "Runtime ARNs are written under <ssm_root_path>/agents/<id>/; agents may read below it."
  type        = string
}

variable "agents" {
  description = "The agents enabled in this environment, by id, as their blueprints say (normalised by the stack)."
  type = map(object({
    name                 = string
    version              = string
    description          = string
    model_id             = string
    max_tokens           = number
    temperature          = number
    network_mode         = string
    protocol             = string
    idle_timeout_minutes = number
    max_lifetime_minutes = number
    environment          = map(string)
    tags                 = map(string)
    jwt = object({
      discovery_url     = string
      allowed_audiences = list(string)
      allowed_clients   = list(string)
    })
    request_headers = list(string)
    # The blueprint's `tools`: whose gateway tools ("" none, "all", or MCP agents joined with
    # commas) and the tool loop's limits. Only an agent with tools gets the gateway's URL and
    # may call it.
    gateway_targets      = optional(string, "")
    tool_max_steps       = optional(number, 8)
    tool_timeout_seconds = optional(number, 30)
    # The blueprint's `memory.enabled`: the runtime gets AGENTCORE_MEMORY_ID and may use the memory.
    memory = bool
    memory_strategies = list(object({
      name        = string
      type        = string
      namespaces  = list(string)
      description = string
    }))
  }))
}

variable "agent_images" {
  description = "Agent id => image pinned by digest (<repository_url>@sha256:<64 hex>); never a tag."
  type        = map(string)
  validation {
    condition     = alltrue([for uri in values(var.agent_images) : can(regex("@sha256:[0-9a-f]{64}$", uri))])
    error_message = "Every agent image must be pinned by digest: <repository_url>@sha256:<64 hex digits>."
  }
}

variable "ecr_repository_arns" {
  description = "Agent id => its ECR repository ARN (platform output)."
  type        = map(string)
}

variable "kms_key_arn" {
  description = "The environment's KMS key (platform output)."
  type        = string
}

variable "gateway_id" {
  description = "AgentCore Gateway id (platform output)."
  type        = string
}

variable "gateway_arn" {
  description = "AgentCore Gateway ARN (platform output)."
  type        = string
}

variable "gateway_url" {
  description = "AgentCore Gateway URL (platform output)."
  type        = string
}

variable "memory_id" {
  description = "AgentCore Memory id (platform output)."
  type        = string
}

variable "memory_arn" {
  description = "AgentCore Memory ARN (platform output)."
  type        = string
}

variable "agent_security_group_id" {
  description = "Security group of VPC-mode runtimes (platform output)."
  type        = string
}

variable "private_subnet_ids" {
  description = "Subnets of VPC-mode runtimes."
  type        = list(string)
}

variable "codebuild_source_bucket" {
  description = "Bucket the CodeBuild projects read the workspace source from (platform output)."
  type        = string
}

variable "buildspec" {
  description = "Content of the CodeBuild buildspec (infra/buildspec.yml)."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the runtimes' and builds' log groups."
  type        = number
}

variable "tags" {
  description = "Tags on every resource."
  type        = map(string)
  default     = {}
}
