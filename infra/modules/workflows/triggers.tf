# EventBridge starts a workflow on its schedule and/or on matching events.

locals {
  triggers = merge(
    { for name, w in var.workflows : "${name}/schedule" => { workflow = name, schedule = w.schedule, pattern = null } if w.schedule != null },
    { for name, w in var.workflows : "${name}/event" => { workflow = name, schedule = null, pattern = w.event_pattern } if w.event_pattern != null },
  )
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

data "aws_iam_policy_document" "events" {
  statement {
    actions   = ["states:StartExecution"]
    resources = length(var.workflows) > 0 ? [for sm in aws_sfn_state_machine.workflow : sm.arn] : ["arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:none"]
  }
}

resource "aws_iam_role_policy" "events" {
  count  = length(local.triggers) > 0 ? 1 : 0
  name   = "start-workflows"
  role   = aws_iam_role.events[0].id
  policy = data.aws_iam_policy_document.events.json
}

resource "aws_cloudwatch_event_rule" "trigger" {
  for_each            = local.triggers
  name                = "${local.prefix}-${replace(each.key, "/", "-")}"
  description         = "Starts workflow ${each.value.workflow}"
  schedule_expression = each.value.schedule
  event_pattern       = each.value.pattern
  tags                = merge(local.tags, { Workflow = each.value.workflow })
}

resource "aws_cloudwatch_event_target" "trigger" {
  for_each = local.triggers
  rule     = aws_cloudwatch_event_rule.trigger[each.key].name
  arn      = aws_sfn_state_machine.workflow[each.value.workflow].arn
  role_arn = aws_iam_role.events[0].arn
}
