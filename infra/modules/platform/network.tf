# VPC-mode runtimes get this group: no inbound, HTTPS out (Bedrock, ECR, SSM, the gateway).
resource "aws_security_group" "agents" {
  name        = "${local.prefix}-agents"
  description = "AgentCore runtimes in VPC mode"
  vpc_id      = var.vpc_id
  tags        = local.tags
}

resource "aws_vpc_security_group_egress_rule" "agents_https" {
  security_group_id = aws_security_group.agents.id
  description       = "HTTPS to AWS APIs and tools"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}
