# What this phase takes from the earlier ones. Platform outputs arrive under their own names.

variable "agent_images" {
  description = "Agent id => image pinned by digest (<repository_url>@sha256:…), from the images phase."
  type        = map(string)
}

variable "ecr_repository_arns" {
  description = "Platform output."
  type        = map(string)
}

variable "kms_key_arn" {
  description = "Platform output."
  type        = string
}

variable "gateway_id" {
  description = "Platform output."
  type        = string
}

variable "gateway_arn" {
  description = "Platform output."
  type        = string
}

variable "gateway_url" {
  description = "Platform output."
  type        = string
}

variable "memory_id" {
  description = "Platform output."
  type        = string
}

variable "memory_arn" {
  description = "Platform output."
  type        = string
}

variable "agent_security_group_id" {
  description = "Platform output."
  type        = string
}

variable "codebuild_source_bucket" {
  description = "Platform output."
  type        = string
}
