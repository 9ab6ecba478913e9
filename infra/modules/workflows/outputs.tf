output "state_machine_arns" {
  description = "Workflow name => Step Functions state machine ARN."
  value       = { for name, sm in aws_sfn_state_machine.workflow : name => sm.arn }
}

output "trigger_rules" {
  description = "Trigger (<workflow>/schedule or <workflow>/event) => EventBridge rule name."
  value       = { for key, rule in aws_cloudwatch_event_rule.trigger : key => rule.name }
}
