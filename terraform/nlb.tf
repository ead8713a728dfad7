################################################################################
# Internal Network Load Balancer with one fixed private IP per subnet
################################################################################

resource "aws_lb" "this" {
  #checkov:skip=CKV_AWS_91:NLB access logs are written only for TLS listeners; this NLB has TCP_UDP and UDP listeners only, so there is nothing to log
  name               = var.name
  internal           = true
  load_balancer_type = "network"
  ip_address_type    = "ipv4"

  # Security groups can be attached to an NLB only when it is created, so it always gets one.
  security_groups = [aws_security_group.nlb.id]

  # Devices send to fixed addresses: an Availability Zone without a running task must still
  # forward to the tasks in the other zones.
  enable_cross_zone_load_balancing = var.enable_cross_zone_load_balancing
  enable_deletion_protection       = var.enable_deletion_protection

  dynamic "subnet_mapping" {
    for_each = var.subnet_mappings

    content {
      subnet_id            = subnet_mapping.value.subnet_id
      private_ipv4_address = subnet_mapping.value.private_ipv4_address
    }
  }

  tags = var.tags
}

################################################################################
# Target groups: one per input, the tasks' IPs on the unprivileged container port
################################################################################

resource "aws_lb_target_group" "this" {
  for_each = local.enabled_inputs

  name        = "${var.name}-${each.key}"
  port        = each.value.container_port
  protocol    = each.value.target_protocol
  target_type = "ip"
  vpc_id      = var.vpc_id

  # Deregistration alone stops only new flows: a device that keeps sending UDP from the same
  # source port would stay on the old task. Terminate its flows when the delay ends.
  connection_termination = true
  deregistration_delay   = var.deregistration_delay

  # Devices are identified by their source address (always on for UDP and TCP_UDP; set
  # explicitly so a change of protocol to TCP would not silently lose it).
  preserve_client_ip = true

  # NLBs never health-check over UDP: check nocbox's per-input HTTP endpoint on the API port.
  health_check {
    enabled             = true
    protocol            = "HTTP"
    port                = tostring(var.api_port)
    path                = each.value.health_check_path
    matcher             = "200"
    interval            = var.health_check_interval
    timeout             = var.health_check_timeout
    healthy_threshold   = var.health_check_healthy_threshold
    unhealthy_threshold = var.health_check_unhealthy_threshold
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = var.health_check_timeout < var.health_check_interval
      error_message = "health_check_timeout must be less than health_check_interval."
    }
  }
}

################################################################################
# Listeners: well-known port -> the input's target group. One resource per input rather than a
# for_each, so that the protocol of each listener is visible as written (and to checkov).
################################################################################

resource "aws_lb_listener" "syslog" {
  count = var.enable_syslog ? 1 : 0

  load_balancer_arn = aws_lb.this.arn
  port              = local.inputs.syslog.listener_port
  protocol          = local.inputs.syslog.listener_protocol

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this["syslog"].arn
  }

  tags = var.tags
}

resource "aws_lb_listener" "traps" {
  count = var.enable_traps ? 1 : 0

  load_balancer_arn = aws_lb.this.arn
  port              = local.inputs.traps.listener_port
  protocol          = local.inputs.traps.listener_protocol

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this["traps"].arn
  }

  tags = var.tags
}

resource "aws_lb_listener" "ntp" {
  count = var.enable_ntp ? 1 : 0

  load_balancer_arn = aws_lb.this.arn
  port              = local.inputs.ntp.listener_port
  protocol          = local.inputs.ntp.listener_protocol

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this["ntp"].arn
  }

  tags = var.tags
}
