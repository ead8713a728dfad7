################################################################################
# NLB security group: devices in, tasks out
################################################################################

resource "aws_security_group" "nlb" {
  name_prefix = "${var.name}-nlb-"
  description = "nocbox NLB ${var.name}: device traffic in on the listener ports, to the tasks and their health checks out"
  vpc_id      = var.vpc_id

  tags = merge(var.tags, { Name = "${var.name}-nlb" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "nlb_from_devices" {
  for_each = local.input_ingress

  security_group_id = aws_security_group.nlb.id
  description       = "${each.value.input} ${upper(each.value.ip_protocol)} ${each.value.listener_port} from devices ${each.value.cidr}"
  ip_protocol       = each.value.ip_protocol
  from_port         = each.value.listener_port
  to_port           = each.value.listener_port
  cidr_ipv4         = each.value.cidr

  tags = var.tags
}

resource "aws_vpc_security_group_egress_rule" "nlb_to_tasks" {
  for_each = local.input_targets

  security_group_id            = aws_security_group.nlb.id
  description                  = "${each.value.input} ${upper(each.value.ip_protocol)} ${each.value.container_port} to the nocbox tasks"
  ip_protocol                  = each.value.ip_protocol
  from_port                    = each.value.container_port
  to_port                      = each.value.container_port
  referenced_security_group_id = aws_security_group.task.id

  tags = var.tags
}

# NLB health checks obey the NLB security group's outbound rules
resource "aws_vpc_security_group_egress_rule" "nlb_health_checks" {
  security_group_id            = aws_security_group.nlb.id
  description                  = "HTTP health checks to the nocbox API port ${var.api_port}"
  ip_protocol                  = "tcp"
  from_port                    = var.api_port
  to_port                      = var.api_port
  referenced_security_group_id = aws_security_group.task.id

  tags = var.tags
}

################################################################################
# Task security group: devices and NLB health checks in, only what nocbox needs out
################################################################################

resource "aws_security_group" "task" {
  name_prefix = "${var.name}-task-"
  description = "nocbox tasks ${var.name}: device traffic and NLB health checks in, Datadog, NTP upstream and device polling out"
  vpc_id      = var.vpc_id

  tags = merge(var.tags, { Name = "${var.name}-task" })

  lifecycle {
    create_before_destroy = true
  }
}

# The NLB preserves the client address, so the tasks see the devices' own addresses.
resource "aws_vpc_security_group_ingress_rule" "task_from_devices" {
  for_each = local.input_ingress

  security_group_id = aws_security_group.task.id
  description       = "${each.value.input} ${upper(each.value.ip_protocol)} ${each.value.container_port} from devices ${each.value.cidr} through the NLB"
  ip_protocol       = each.value.ip_protocol
  from_port         = each.value.container_port
  to_port           = each.value.container_port
  cidr_ipv4         = each.value.cidr

  tags = var.tags
}

resource "aws_vpc_security_group_ingress_rule" "task_health_checks" {
  security_group_id            = aws_security_group.task.id
  description                  = "NLB HTTP health checks on the nocbox API port ${var.api_port}"
  ip_protocol                  = "tcp"
  from_port                    = var.api_port
  to_port                      = var.api_port
  referenced_security_group_id = aws_security_group.nlb.id

  tags = var.tags
}

# Datadog intake, and ECR, CloudWatch Logs, Secrets Manager/SSM for the task's ENI
resource "aws_vpc_security_group_egress_rule" "task_https" {
  for_each = toset(var.egress_https_cidrs)

  security_group_id = aws_security_group.task.id
  description       = "HTTPS to ${each.value} (Datadog intake, ECR, CloudWatch Logs, Secrets Manager)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = each.value

  tags = var.tags
}

resource "aws_vpc_security_group_egress_rule" "task_https_prefix_lists" {
  for_each = toset(var.egress_https_prefix_list_ids)

  security_group_id = aws_security_group.task.id
  description       = "HTTPS to prefix list ${each.value}"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_id    = each.value

  tags = var.tags
}

# Security groups do not filter traffic to the Amazon Time Sync Service (169.254.169.123); the rule
# states the intent and is what lets other NTP upstreams through.
resource "aws_vpc_security_group_egress_rule" "task_ntp_upstream" {
  for_each = toset(var.ntp_upstream_cidrs)

  security_group_id = aws_security_group.task.id
  description       = "NTP to the upstream time source ${each.value}"
  ip_protocol       = "udp"
  from_port         = 123
  to_port           = 123
  cidr_ipv4         = each.value

  tags = var.tags
}

resource "aws_vpc_security_group_egress_rule" "task_snmp" {
  for_each = var.enable_snmp_polling ? { for pair in setproduct(var.snmp_ports, var.device_cidrs) : "${pair[0]}-${pair[1]}" => { port = pair[0], cidr = pair[1] } } : {}

  security_group_id = aws_security_group.task.id
  description       = "SNMP polling UDP ${each.value.port} to devices ${each.value.cidr}"
  ip_protocol       = "udp"
  from_port         = each.value.port
  to_port           = each.value.port
  cidr_ipv4         = each.value.cidr

  tags = var.tags
}

resource "aws_vpc_security_group_egress_rule" "task_ping" {
  for_each = var.enable_ping ? toset(var.device_cidrs) : toset([])

  security_group_id = aws_security_group.task.id
  description       = "ICMP echo requests (ping) to devices ${each.value}"
  ip_protocol       = "icmp"
  from_port         = 8 # ICMP type: echo request
  to_port           = 0 # ICMP code
  cidr_ipv4         = each.value

  tags = var.tags
}

resource "aws_vpc_security_group_egress_rule" "task_tcp_checks" {
  for_each = { for pair in setproduct(var.tcp_check_ports, var.device_cidrs) : "${pair[0]}-${pair[1]}" => { port = pair[0], cidr = pair[1] } }

  security_group_id = aws_security_group.task.id
  description       = "TCP check port ${each.value.port} on devices ${each.value.cidr}"
  ip_protocol       = "tcp"
  from_port         = each.value.port
  to_port           = each.value.port
  cidr_ipv4         = each.value.cidr

  tags = var.tags
}
