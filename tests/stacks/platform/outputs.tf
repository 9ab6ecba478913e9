# Each output feeds the variable of the same name in the later stacks (agents, workflows), and
# is also in SSM under <ssm_root_path>/platform/<name>.

output "kms_key_arn" {
  value = local.scalar_outputs.kms_key_arn
}

output "dynamodb_table_name" {
  value = local.scalar_outputs.dynamodb_table_name
}

output "dynamodb_table_arn" {
  value = local.scalar_outputs.dynamodb_table_arn
}

output "artifacts_bucket" {
  value = local.scalar_outputs.artifacts_bucket
}

output "codebuild_source_bucket" {
  value = local.scalar_outputs.codebuild_source_bucket
}

output "gateway_id" {
  value = local.scalar_outputs.gateway_id
}

output "gateway_arn" {
  value = local.scalar_outputs.gateway_arn
}

output "gateway_url" {
  value = local.scalar_outputs.gateway_url
}

output "memory_id" {
  value = local.scalar_outputs.memory_id
}

output "memory_arn" {
  value = local.scalar_outputs.memory_arn
}

output "agent_security_group_id" {
  value = local.scalar_outputs.agent_security_group_id
}

output "ecr_repository_urls" {
  description = "Agent id => ECR repository URL; the images phase pushes there."
  value       = { for id, repo in aws_ecr_repository.agent : id => repo.repository_url }
}

output "ecr_repository_arns" {
  value = { for id, repo in aws_ecr_repository.agent : id => repo.arn }
}
