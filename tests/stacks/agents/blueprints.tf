# The agents, read from their blueprints (agents/*/blueprint.yaml): one source of truth for
# the xtask and for Terraform. Defaults are the blueprint model's (xtask/src/blueprint).
locals {
  blueprints_dir = "${path.root}/../../../agents"
  blueprints = {
    for f in fileset(local.blueprints_dir, "*/blueprint.yaml") :
    yamldecode(file("${local.blueprints_dir}/${f}")).id => yamldecode(file("${local.blueprints_dir}/${f}"))
  }
  enabled_agents = {
    for id, bp in local.blueprints : id => {
      name                 = bp.name
      version              = tostring(bp.version)
      description          = trimspace(try(bp.description, ""))
      model_id             = bp.model.model_id
      network_mode         = try(bp.runtime.network_mode, "PUBLIC")
      protocol             = try(bp.runtime.protocol, "HTTP")
      idle_timeout_minutes = try(bp.runtime.idle_timeout_minutes, 15)
      max_lifetime_minutes = try(bp.runtime.max_lifetime_minutes, 480)
      environment          = { for k, v in try(bp.runtime.environment, {}) : k => tostring(v) }
      tags                 = { for k, v in try(bp.tags, {}) : k => tostring(v) }
      memory_strategies = [
        for s in try(bp.memory.strategies, []) : {
          name        = s.name
          type        = s.type
          namespaces  = try(s.namespaces, [])
          description = try(s.description, "")
        }
      ]
    }
    if try(bp.execution_modes[var.environment], var.environment == "dev")
  }
}
