data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

data "aws_region" "bedrock" {
  provider = aws.bedrock
}

locals {
  prefix         = "${var.project_name}-${var.environment}"
  account_id     = data.aws_caller_identity.current.account_id
  partition      = data.aws_partition.current.partition
  region         = data.aws_region.current.region
  bedrock_region = data.aws_region.bedrock.region
  tags           = merge(var.tags, { Project = var.project_name, Environment = var.environment })

  # Runtime names allow letters, digits and `_` (48 at most; `cargo xtask check` verifies).
  runtime_names = { for id, _ in var.agents : id => "${var.project_name}_${var.environment}_${replace(id, "-", "_")}" }

  # Cross-region inference profiles (us.…, eu.…, global.…) route to the model in several regions.
  model_arns = {
    for id, agent in var.agents : id => (
      can(regex("^(us|eu|apac|jp|au|ca|us-gov|global)\\.", agent.model_id))
      ? [
        "arn:${local.partition}:bedrock:${local.bedrock_region}:${local.account_id}:inference-profile/${agent.model_id}",
        "arn:${local.partition}:bedrock:*::foundation-model/${join(".", slice(split(".", agent.model_id), 1, length(split(".", agent.model_id))))}",
      ]
      : ["arn:${local.partition}:bedrock:${local.bedrock_region}::foundation-model/${agent.model_id}"]
    )
  }

  # What every runtime is told about its platform; a blueprint may add variables, not replace these.
  # The model is given to the runtime, not only compiled in: an environment may run another
  # one (`environments.<env>.model` in the blueprint) from the same image. A null is a variable
  # this runtime does not get: the memory only for agents whose blueprint uses it, the gateway
  # only for those whose blueprint names its tools.
  platform_environment = {
    for id, agent in var.agents : id => {
      AGENT_ID              = id
      BEDROCK_REGION        = local.bedrock_region
      AGENTCORE_MEMORY_ID   = agent.memory ? var.memory_id : null
      AGENTCORE_GATEWAY_URL = agent.gateway_targets != "" ? var.gateway_url : null
      SSM_ROOT_PATH         = var.ssm_root_path
      MODEL_ID              = agent.model_id
      MODEL_MAX_TOKENS      = tostring(agent.max_tokens)
      MODEL_TEMPERATURE     = tostring(agent.temperature)
      # The blueprint's `tools`, read by agentcore-runtime's gateway client.
      AGENTCORE_GATEWAY_TARGETS = agent.gateway_targets != "" ? agent.gateway_targets : null
      TOOL_MAX_STEPS            = agent.gateway_targets != "" ? tostring(agent.tool_max_steps) : null
      TOOL_TIMEOUT_SECONDS      = agent.gateway_targets != "" ? tostring(agent.tool_timeout_seconds) : null
    }
  }

  # The agents' own traces and metrics (agentcore-runtime's telemetry, configured by the
  # standard OTEL_* variables only): what the platform knows, as defaults a blueprint's
  # runtime.environment overrides. No OTEL_EXPORTER_OTLP_ENDPOINT here: with none the agent
  # exports nothing; a blueprint sets it (per environment under environments.<env>) to a
  # collector the runtime reaches. The resource attributes AgentCore observability reads
  # (developer guide, "Enabling observability in agent code"): service.name, shown as the
  # agent; aws.log.group.names and cloud.resource_id name the runtime's log group and ARN,
  # which exist only once the runtime does, so they cannot be given to it here.
  # AGENT_OBSERVABILITY_ENABLED is read by the ADOT Python distro, not by these agents.
  otel_environment = {
    for id, agent in var.agents : id => {
      OTEL_SERVICE_NAME        = id
      OTEL_RESOURCE_ATTRIBUTES = "deployment.environment.name=${var.environment},service.version=${agent.version},cloud.region=${local.region}"
    }
  }
}

resource "aws_bedrockagentcore_agent_runtime" "agent" {
  for_each           = var.agents
  agent_runtime_name = local.runtime_names[each.key]
  description        = "${each.value.name} ${each.value.version}: ${each.value.description}"
  role_arn           = aws_iam_role.runtime[each.key].arn

  agent_runtime_artifact {
    container_configuration {
      container_uri = lookup(var.agent_images, each.key, "")
    }
  }

  network_configuration {
    network_mode = each.value.network_mode
    dynamic "network_mode_config" {
      for_each = each.value.network_mode == "VPC" ? [1] : []
      content {
        subnets         = var.private_subnet_ids
        security_groups = [var.agent_security_group_id]
      }
    }
  }

  protocol_configuration {
    server_protocol = each.value.protocol
  }

  lifecycle_configuration {
    idle_runtime_session_timeout = each.value.idle_timeout_minutes * 60
    max_lifetime                 = each.value.max_lifetime_minutes * 60
  }

  # The blueprint's `auth.jwt`: callers present a bearer token from that identity provider
  # instead of signing with IAM.
  dynamic "authorizer_configuration" {
    for_each = each.value.jwt == null ? [] : [each.value.jwt]
    content {
      custom_jwt_authorizer {
        discovery_url    = authorizer_configuration.value.discovery_url
        allowed_audience = length(authorizer_configuration.value.allowed_audiences) > 0 ? authorizer_configuration.value.allowed_audiences : null
        allowed_clients  = length(authorizer_configuration.value.allowed_clients) > 0 ? authorizer_configuration.value.allowed_clients : null
      }
    }
  }

  # The blueprint's `auth.request_headers`: the headers AgentCore passes on to the agent.
  dynamic "request_header_configuration" {
    for_each = length(each.value.request_headers) > 0 ? [each.value.request_headers] : []
    content {
      request_header_allowlist = request_header_configuration.value
    }
  }

  environment_variables = merge(local.otel_environment[each.key], each.value.environment, { for k, v in local.platform_environment[each.key] : k => v if v != null })
  tags                  = merge(local.tags, each.value.tags, { Agent = each.key })

  lifecycle {
    precondition {
      condition     = contains(keys(var.agent_images), each.key)
      error_message = "No image for agent ${each.key}: agent_images must hold every enabled agent (run the images phase first)."
    }
    precondition {
      condition     = each.value.network_mode != "VPC" || length(var.private_subnet_ids) > 0
      error_message = "Agent ${each.key} runs in VPC mode but private_subnet_ids is empty in this environment."
    }
  }
}

# The endpoint callers use; it follows the runtime's newest version on every apply.
resource "aws_bedrockagentcore_agent_runtime_endpoint" "live" {
  for_each              = var.agents
  name                  = "live"
  agent_runtime_id      = aws_bedrockagentcore_agent_runtime.agent[each.key].agent_runtime_id
  agent_runtime_version = aws_bedrockagentcore_agent_runtime.agent[each.key].agent_runtime_version
  description           = "${each.key} in ${var.environment}"
  tags                  = local.tags
}

# AgentCore ships a runtime's stdout to /aws/bedrock-agentcore/runtimes/<runtime id>-<endpoint>,
# one group per endpoint it is invoked through (DEFAULT and live). Creating them here sets
# retention and encryption, and spares the runtime role logs:CreateLogGroup.
locals {
  runtime_log_groups = merge([
    for id, _ in var.agents : {
      for endpoint in ["DEFAULT", "live"] : "${id}/${endpoint}" => { agent = id, endpoint = endpoint }
    }
  ]...)
}

resource "aws_cloudwatch_log_group" "runtime" {
  for_each          = local.runtime_log_groups
  name              = "/aws/bedrock-agentcore/runtimes/${aws_bedrockagentcore_agent_runtime.agent[each.value.agent].agent_runtime_id}-${each.value.endpoint}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = merge(local.tags, { Agent = each.value.agent })
}

locals {
  memory_strategies = merge([
    for id, agent in var.agents : {
      for s in agent.memory_strategies : "${id}/${s.name}" => merge(s, { agent = id })
    }
  ]...)
}

resource "aws_bedrockagentcore_memory_strategy" "agent" {
  for_each    = local.memory_strategies
  name        = "${replace(each.value.agent, "-", "_")}_${each.value.name}"
  memory_id   = var.memory_id
  type        = each.value.type
  description = each.value.description != "" ? each.value.description : "${each.value.type} for ${each.value.agent}"
  # An agent's records stay under its own prefix of the shared memory.
  namespaces = length(each.value.namespaces) > 0 ? each.value.namespaces : ["/agents/${each.value.agent}/{actorId}"]
}

# Agents serving MCP become tools of the gateway, reached with the gateway's role (SigV4).
resource "aws_bedrockagentcore_gateway_target" "agent" {
  for_each           = { for id, agent in var.agents : id => agent if agent.protocol == "MCP" }
  name               = each.key
  gateway_identifier = var.gateway_id
  description        = each.value.description

  credential_provider_configuration {
    gateway_iam_role {
      service = "bedrock-agentcore"
      region  = local.region
    }
  }

  target_configuration {
    mcp {
      mcp_server {
        endpoint = "https://bedrock-agentcore.${local.region}.amazonaws.com/runtimes/${urlencode(aws_bedrockagentcore_agent_runtime.agent[each.key].agent_runtime_arn)}/invocations?qualifier=${aws_bedrockagentcore_agent_runtime_endpoint.live[each.key].name}"
      }
    }
  }
}

resource "aws_ssm_parameter" "runtime_arn" {
  for_each = var.agents
  name     = "${var.ssm_root_path}/agents/${each.key}/runtime_arn"
  type     = "String"
  value    = aws_bedrockagentcore_agent_runtime.agent[each.key].agent_runtime_arn
  tags     = local.tags
}
