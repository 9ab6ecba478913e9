locals {
  # Every scalar output, also published under <ssm_root_path>/platform/<name> (the seed's
  # preferred cross-phase interface: readers need SSM access, not the state bucket).
  scalar_outputs = {
    kms_key_arn             = aws_kms_key.main.arn
    dynamodb_table_name     = aws_dynamodb_table.state.name
    dynamodb_table_arn      = aws_dynamodb_table.state.arn
    artifacts_bucket        = aws_s3_bucket.this["artifacts"].id
    codebuild_source_bucket = aws_s3_bucket.this["codebuild_source"].id
    gateway_id              = aws_bedrockagentcore_gateway.main.gateway_id
    gateway_arn             = aws_bedrockagentcore_gateway.main.gateway_arn
    gateway_url             = aws_bedrockagentcore_gateway.main.gateway_url
    memory_id               = aws_bedrockagentcore_memory.main.id
    memory_arn              = aws_bedrockagentcore_memory.main.arn
    agent_security_group_id = aws_security_group.agents.id
    platform_log_group      = aws_cloudwatch_log_group.platform.name
    bedrock_region          = data.aws_region.bedrock.region
    web_distribution_domain = var.cloudfront_enabled ? aws_cloudfront_distribution.web[0].domain_name : "none"
  }
}

resource "aws_ssm_parameter" "output" {
  for_each = local.scalar_outputs
  name     = "${var.ssm_root_path}/platform/${each.key}"
  type     = "String"
  value    = each.value
  tags     = local.tags
}

resource "aws_ssm_parameter" "repository_url" {
  for_each = aws_ecr_repository.agent
  name     = "${var.ssm_root_path}/ecr/${each.key}/repository_url"
  type     = "String"
  value    = each.value.repository_url
  tags     = local.tags
}

output "kms_key_arn" {
  description = "The environment's customer-managed KMS key."
  value       = aws_kms_key.main.arn
}

output "dynamodb_table_name" {
  description = "Agent state table (pk/sk)."
  value       = aws_dynamodb_table.state.name
}

output "dynamodb_table_arn" {
  description = "Agent state table ARN."
  value       = aws_dynamodb_table.state.arn
}

output "artifacts_bucket" {
  description = "Bucket for agent artifacts."
  value       = aws_s3_bucket.this["artifacts"].id
}

output "codebuild_source_bucket" {
  description = "Bucket CodeBuild reads source uploads from."
  value       = aws_s3_bucket.this["codebuild_source"].id
}

output "gateway_id" {
  description = "AgentCore Gateway id."
  value       = aws_bedrockagentcore_gateway.main.gateway_id
}

output "gateway_arn" {
  description = "AgentCore Gateway ARN."
  value       = aws_bedrockagentcore_gateway.main.gateway_arn
}

output "gateway_url" {
  description = "AgentCore Gateway MCP URL (AGENTCORE_GATEWAY_URL of the runtimes)."
  value       = aws_bedrockagentcore_gateway.main.gateway_url
}

output "memory_id" {
  description = "AgentCore Memory id (AGENTCORE_MEMORY_ID of the runtimes)."
  value       = aws_bedrockagentcore_memory.main.id
}

output "memory_arn" {
  description = "AgentCore Memory ARN."
  value       = aws_bedrockagentcore_memory.main.arn
}

output "agent_security_group_id" {
  description = "Security group of VPC-mode runtimes."
  value       = aws_security_group.agents.id
}

output "platform_log_group" {
  description = "Log group of the platform's own services."
  value       = aws_cloudwatch_log_group.platform.name
}

output "bedrock_region" {
  description = "The region the agents call Bedrock in."
  value       = data.aws_region.bedrock.region
}

output "web_distribution_domain" {
  description = "CloudFront domain of the web bucket, or \"none\"."
  value       = local.scalar_outputs.web_distribution_domain
}

output "ecr_repository_urls" {
  description = "Agent id => ECR repository URL (ACCOUNT.dkr.ecr.REGION.amazonaws.com/<project>/<env>/<agent>)."
  value       = { for id, repo in aws_ecr_repository.agent : id => repo.repository_url }
}

output "ecr_repository_arns" {
  description = "Agent id => ECR repository ARN."
  value       = { for id, repo in aws_ecr_repository.agent : id => repo.arn }
}
