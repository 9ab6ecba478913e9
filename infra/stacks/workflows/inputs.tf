variable "agent_runtime_arns" {
  description = "Agent id => runtime ARN: the agents stack's output of the same name."
  type        = map(string)
}

variable "kms_key_arn" {
  description = "Platform output."
  type        = string
}
