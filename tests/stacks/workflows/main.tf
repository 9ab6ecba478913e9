# Test stand-in of infra/stacks/workflows (see ../platform/main.tf for the rules). moto cannot
# plan aws_sfn_state_machine, so each state machine is stood in for by an SSM parameter that
# holds its rendered definition; its IAM role, log group and EventBridge triggers are real.
# The definitions are the shipped ones (infra/workflows/).
terraform {
  required_version = ">= 1.10"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }
  backend "s3" {}
}

provider "aws" {
  region      = var.aws_region
  max_retries = 2
  default_tags {
    tags = { ManagedBy = "terraform", Stack = "workflows" }
  }
}

data "aws_caller_identity" "current" {}

locals {
  prefix     = "${var.project_name}-${var.environment}"
  account_id = data.aws_caller_identity.current.account_id
  tags       = { Project = var.project_name, Environment = var.environment }
  state_machine_arns = {
    for name, _ in local.workflows : name => "arn:aws:states:${var.aws_region}:${local.account_id}:stateMachine:${local.prefix}-${name}"
  }
  triggers = merge(
    { for name, w in local.workflows : "${name}/schedule" => { workflow = name, schedule = w.schedule, pattern = null } if w.schedule != null },
    { for name, w in local.workflows : "${name}/event" => { workflow = name, schedule = null, pattern = w.event_pattern } if w.event_pattern != null },
  )
}

resource "aws_ssm_parameter" "definition" {
  for_each       = local.workflows
  name           = "${var.ssm_root_path}/workflows/${each.key}/definition"
  type           = "String"
  insecure_value = each.value.definition
  tags           = local.tags
}

resource "aws_ssm_parameter" "state_machine_arn" {
  for_each       = local.workflows
  name           = "${var.ssm_root_path}/workflows/${each.key}/state_machine_arn"
  type           = "String"
  insecure_value = local.state_machine_arns[each.key]
  tags           = local.tags
}

resource "aws_cloudwatch_log_group" "workflow" {
  for_each          = local.workflows
  name              = "/aws/vendedlogs/states/${local.prefix}-${each.key}"
  retention_in_days = var.log_retention_days
  tags              = local.tags
}

data "aws_iam_policy_document" "states_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["states.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "workflow" {
  for_each           = local.workflows
  name               = "${local.prefix}-${each.key}-sfn"
  assume_role_policy = data.aws_iam_policy_document.states_assume.json
  tags               = local.tags
}

resource "aws_iam_role_policy" "workflow" {
  for_each = local.workflows
  name     = "workflow"
  role     = aws_iam_role.workflow[each.key].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["bedrock-agentcore:InvokeAgentRuntime"]
      Resource = [for id in each.value.agents : var.agent_runtime_arns[id]]
    }]
  })
}

data "aws_iam_policy_document" "events_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "events" {
  count              = length(local.triggers) > 0 ? 1 : 0
  name               = "${local.prefix}-workflow-triggers"
  assume_role_policy = data.aws_iam_policy_document.events_assume.json
  tags               = local.tags
}

resource "aws_cloudwatch_event_rule" "trigger" {
  for_each            = local.triggers
  name                = "${local.prefix}-${replace(each.key, "/", "-")}"
  description         = "Starts workflow ${each.value.workflow}"
  schedule_expression = each.value.schedule
  event_pattern       = each.value.pattern
  tags                = local.tags
}

resource "aws_cloudwatch_event_target" "trigger" {
  for_each = local.triggers
  rule     = aws_cloudwatch_event_rule.trigger[each.key].name
  arn      = local.state_machine_arns[each.value.workflow]
  role_arn = aws_iam_role.events[0].arn
}
