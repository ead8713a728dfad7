################################################################################
# Cluster (optional)
################################################################################

resource "aws_ecs_cluster" "this" {
  count = var.create_cluster ? 1 : 0

  name = var.name

  setting {
    name  = "containerInsights"
    value = var.cluster_container_insights
  }

  tags = var.tags
}

################################################################################
# Task definition
################################################################################

resource "aws_ecs_task_definition" "this" {
  family                   = var.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn

  container_definitions = jsonencode([local.container_definition])

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }

  # A task volume without a host path lives on the task's ephemeral storage and is lost when the
  # task stops: the one writable place next to the read-only root filesystem. ECS starts it from
  # the image's VOLUME at the same path, with its ownership (the image's non-root user).
  volume {
    name = "state"
  }

  dynamic "ephemeral_storage" {
    for_each = var.ephemeral_storage_size_in_gib == null ? [] : [var.ephemeral_storage_size_in_gib]

    content {
      size_in_gib = ephemeral_storage.value
    }
  }

  tags = var.tags
}

################################################################################
# Service
################################################################################

resource "aws_ecs_service" "this" {
  name             = var.name
  cluster          = local.cluster_arn
  task_definition  = aws_ecs_task_definition.this.arn
  desired_count    = var.desired_count
  launch_type      = "FARGATE"
  platform_version = var.platform_version

  deployment_minimum_healthy_percent = var.deployment_minimum_healthy_percent
  deployment_maximum_percent         = var.deployment_maximum_percent
  health_check_grace_period_seconds  = var.health_check_grace_period_seconds
  enable_execute_command             = var.enable_execute_command
  enable_ecs_managed_tags            = true
  propagate_tags                     = "SERVICE"
  wait_for_steady_state              = var.wait_for_steady_state

  deployment_controller {
    type = "ECS"
  }

  # a deployment whose tasks never become healthy rolls back to the last good task definition
  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets          = local.task_subnet_ids
    security_groups  = [aws_security_group.task.id]
    assign_public_ip = false
  }

  # ECS registers each task's IP in every enabled target group (at most 5 per service)
  dynamic "load_balancer" {
    for_each = local.enabled_inputs

    content {
      target_group_arn = aws_lb_target_group.this[load_balancer.key].arn
      container_name   = var.container_name
      container_port   = load_balancer.value.container_port
    }
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = length(local.enabled_inputs) > 0
      error_message = "Enable at least one input (enable_syslog, enable_traps, enable_ntp)."
    }

    precondition {
      condition     = var.create_cluster || var.cluster_arn != null
      error_message = "Give cluster_arn when create_cluster is false."
    }
  }

  # a target group must belong to a load balancer before a service can use it; the execution
  # role needs its permissions before the first task starts
  depends_on = [
    aws_lb_listener.syslog,
    aws_lb_listener.traps,
    aws_lb_listener.ntp,
    aws_iam_role_policy.execution,
  ]
}
