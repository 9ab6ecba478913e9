# Each output feeds the variable of the same name in the later stacks (agents, workflows), and
# is also in SSM under <ssm_root_path>/platform/<name>.

output "kms_key_arn" {
  value = module.platform.kms_key_arn
}

output "dynamodb_table_name" {
  value = module.platform.dynamodb_table_name
}

output "dynamodb_table_arn" {
  value = module.platform.dynamodb_table_arn
}

output "artifacts_bucket" {
  value = module.platform.artifacts_bucket
}

output "codebuild_source_bucket" {
  value = module.platform.codebuild_source_bucket
}

output "gateway_id" {
  value = module.platform.gateway_id
}

output "gateway_arn" {
  value = module.platform.gateway_arn
}

output "gateway_url" {
  value = module.platform.gateway_url
}

output "memory_id" {
  value = module.platform.memory_id
}

output "memory_arn" {
  value = module.platform.memory_arn
}

output "agent_security_group_id" {
  value = module.platform.agent_security_group_id
}

output "ecr_repository_urls" {
  description = "Agent id => ECR repository URL; the images phase pushes there."
  value       = module.platform.ecr_repository_urls
}

output "ecr_repository_arns" {
  value = module.platform.ecr_repository_arns
}
