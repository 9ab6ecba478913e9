# The workflow definitions (infra/workflows/<name>.yaml). A workflow is deployed only where
# every agent it names runs; `${agent["<id>"]}` in its definition becomes that runtime's ARN.
locals {
  workflows_dir = "${path.root}/../../../infra/workflows"
  workflow_specs = {
    for f in fileset(local.workflows_dir, "*.yaml") :
    trimsuffix(f, ".yaml") => yamldecode(file("${local.workflows_dir}/${f}"))
  }
  workflows = {
    for name, spec in local.workflow_specs : name => {
      description   = try(spec.description, "")
      agents        = spec.agents
      schedule      = try(spec.schedule, null)
      event_pattern = try(jsonencode(spec.event_pattern), null)
      definition = jsonencode(yamldecode(templatefile("${local.workflows_dir}/${name}.yaml", {
        agent = var.agent_runtime_arns
      })).definition)
    }
    if alltrue([for id in spec.agents : contains(keys(var.agent_runtime_arns), id)])
  }
}
