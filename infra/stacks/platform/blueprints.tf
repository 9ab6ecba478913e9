# The agents, read from their blueprints (agents/*/blueprint.yaml): one source of truth for
# the xtask and for Terraform. Defaults are the blueprint model's (xtask/src/blueprint).
locals {
  blueprints_dir = "${path.root}/../../../agents"
  blueprints = {
    for f in fileset(local.blueprints_dir, "*/blueprint.yaml") :
    yamldecode(file("${local.blueprints_dir}/${f}")).id => yamldecode(file("${local.blueprints_dir}/${f}"))
  }
  # A blueprint's `environments.<env>` sets this environment's own values over the rest.
  overrides = { for id, bp in local.blueprints : id => try(bp.environments[var.environment], {}) }
  enabled_agents = {
    for id, bp in local.blueprints : id => {
      name                 = bp.name
      version              = tostring(bp.version)
      description          = trimspace(try(bp.description, ""))
      model_id             = try(local.overrides[id].model.model_id, bp.model.model_id)
      max_tokens           = try(local.overrides[id].model.max_tokens, bp.model.max_tokens, 1024)
      temperature          = try(local.overrides[id].model.temperature, bp.model.temperature, 0.2)
      network_mode         = try(local.overrides[id].runtime.network_mode, bp.runtime.network_mode, "PUBLIC")
      protocol             = try(bp.runtime.protocol, "HTTP")
      idle_timeout_minutes = try(local.overrides[id].runtime.idle_timeout_minutes, bp.runtime.idle_timeout_minutes, 15)
      max_lifetime_minutes = try(local.overrides[id].runtime.max_lifetime_minutes, bp.runtime.max_lifetime_minutes, 480)
      environment = merge(
        { for k, v in try(bp.runtime.environment, {}) : k => tostring(v) },
        { for k, v in try(local.overrides[id].runtime.environment, {}) : k => tostring(v) },
      )
      tags = { for k, v in try(bp.tags, {}) : k => tostring(v) }
      jwt = try({
        discovery_url     = bp.auth.jwt.discovery_url
        allowed_audiences = try(bp.auth.jwt.allowed_audiences, [])
        allowed_clients   = try(bp.auth.jwt.allowed_clients, [])
      }, null)
      request_headers = try(bp.auth.request_headers, [])
      # `tools.gateway`: a list of MCP agents, or `all`; "" for none.
      gateway_targets      = try(join(",", bp.tools.gateway), tostring(bp.tools.gateway), "")
      tool_max_steps       = try(bp.tools.max_steps, 8)
      tool_timeout_seconds = try(bp.tools.timeout_seconds, 30)
      memory               = try(bp.memory.enabled, false)
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
