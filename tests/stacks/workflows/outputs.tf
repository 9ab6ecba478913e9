output "state_machine_arns" {
  value = { for name, p in aws_ssm_parameter.state_machine_arn : name => p.insecure_value }
}

output "trigger_rules" {
  value = { for key, rule in aws_cloudwatch_event_rule.trigger : key => rule.name }
}
