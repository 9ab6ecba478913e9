variable "project_name" {
  description = "Prefix of every name."
  type        = string
}

variable "environment" {
  description = "dev, staging or production."
  type        = string
}

variable "ssm_root_path" {
  description = "State machine ARNs are written under <ssm_root_path>/workflows/<name>/."
  type        = string
}

variable "workflows" {
  description = "Workflow name => definition (infra/workflows/<name>.yaml, rendered by the stack)."
  type = map(object({
    description   = string
    agents        = list(string)
    schedule      = optional(string)
    event_pattern = optional(string)
    definition    = string
  }))
}

variable "agent_runtime_arns" {
  description = "Agent id => AgentCore runtime ARN (the agents phase's output)."
  type        = map(string)
}

variable "kms_key_arn" {
  description = "The environment's KMS key (platform output)."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the state machines' log groups."
  type        = number
}

variable "tags" {
  description = "Tags on every resource."
  type        = map(string)
  default     = {}
}
