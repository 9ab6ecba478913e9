output "agent_runtime_arns" {
  description = "Agent id => runtime ARN; feeds the workflows stack's variable of the same name."
  value       = { for id, p in aws_ssm_parameter.runtime_arn : id => p.insecure_value }
}

output "runtime_arns" {
  description = "The same map under the module's (and the seed's) name."
  value       = { for id, p in aws_ssm_parameter.runtime_arn : id => p.insecure_value }
}

output "runtime_versions" {
  description = "Agent id => the version the live endpoint serves (here: the image parameter's)."
  value       = { for id, p in data.aws_ssm_parameter.image : id => tostring(p.version) }
}

output "codebuild_project" {
  value = one(aws_codebuild_project.images[*].name)
}

output "agent_images" {
  description = "Agent id => the image it runs (<repository_url>@sha256:…): what `promote` copies to the next environment and what production must match."
  value       = { for id, p in aws_ssm_parameter.image : id => p.insecure_value }
}
