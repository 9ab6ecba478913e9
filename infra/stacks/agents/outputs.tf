output "agent_runtime_arns" {
  description = "Agent id => runtime ARN; feeds the workflows stack's variable of the same name."
  value       = module.agents.runtime_arns
}

output "runtime_arns" {
  description = "The same map under the module's (and the seed's) name."
  value       = module.agents.runtime_arns
}

output "runtime_versions" {
  value = module.agents.runtime_versions
}

output "codebuild_project" {
  value = module.agents.codebuild_project
}

output "agent_images" {
  description = "Agent id => the image it runs (<repository_url>@sha256:…): what `promote` copies to the next environment and what production must match."
  value       = { for id in keys(local.enabled_agents) : id => var.agent_images[id] }
}
