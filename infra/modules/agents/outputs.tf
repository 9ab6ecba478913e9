output "runtime_arns" {
  description = "Agent id => AgentCore runtime ARN."
  value       = { for id, r in aws_bedrockagentcore_agent_runtime.agent : id => r.agent_runtime_arn }
}

output "runtime_ids" {
  description = "Agent id => AgentCore runtime id."
  value       = { for id, r in aws_bedrockagentcore_agent_runtime.agent : id => r.agent_runtime_id }
}

output "runtime_versions" {
  description = "Agent id => the runtime version the live endpoint serves."
  value       = { for id, r in aws_bedrockagentcore_agent_runtime.agent : id => r.agent_runtime_version }
}

output "endpoint_arns" {
  description = "Agent id => ARN of its live endpoint."
  value       = { for id, e in aws_bedrockagentcore_agent_runtime_endpoint.live : id => e.agent_runtime_endpoint_arn }
}

output "runtime_role_arns" {
  description = "Agent id => IAM role of its runtime."
  value       = { for id, r in aws_iam_role.runtime : id => r.arn }
}

output "codebuild_project" {
  description = "The CodeBuild project that builds the environment's images (null without agents)."
  value       = one(aws_codebuild_project.images[*].name)
}
