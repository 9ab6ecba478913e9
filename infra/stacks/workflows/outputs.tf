output "state_machine_arns" {
  value = module.workflows.state_machine_arns
}

output "trigger_rules" {
  value = module.workflows.trigger_rules
}
