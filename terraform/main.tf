data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
  account_id = data.aws_caller_identity.current.account_id

  # One entry per input nocbox receives through the NLB. The NLB listens on the well-known port
  # and forwards to the unprivileged container port (the image runs as non-root, which cannot bind
  # ports below 1024 on ECS). NLBs never health-check over UDP, so every target group is checked
  # over HTTP on the API port, on the input's own health path.
  inputs = {
    syslog = {
      enabled           = var.enable_syslog
      listener_port     = var.syslog_listener_port
      listener_protocol = "TCP_UDP"
      container_port    = var.syslog_port
      target_protocol   = "TCP_UDP"
      health_check_path = "/healthz/syslog"
      ip_protocols      = ["tcp", "udp"]
    }
    traps = {
      enabled           = var.enable_traps
      listener_port     = var.traps_listener_port
      listener_protocol = "UDP"
      container_port    = var.traps_port
      target_protocol   = "UDP"
      health_check_path = "/healthz/traps"
      ip_protocols      = ["udp"]
    }
    ntp = {
      enabled           = var.enable_ntp
      listener_port     = var.ntp_listener_port
      listener_protocol = "UDP"
      container_port    = var.ntp_port
      target_protocol   = "UDP"
      health_check_path = "/healthz/ntp"
      ip_protocols      = ["udp"]
    }
  }

  enabled_inputs = { for key, input in local.inputs : key => input if input.enabled }

  # (input, IP protocol, device CIDR) triples: NLB and task security group ingress
  input_ingress = {
    for rule in flatten([
      for key, input in local.enabled_inputs : [
        for pair in setproduct(input.ip_protocols, var.device_cidrs) : {
          key            = "${key}-${pair[0]}-${pair[1]}"
          input          = key
          ip_protocol    = pair[0]
          cidr           = pair[1]
          listener_port  = input.listener_port
          container_port = input.container_port
        }
      ]
    ]) : rule.key => rule
  }

  # (input, IP protocol) pairs: NLB security group egress to the tasks
  input_targets = {
    for rule in flatten([
      for key, input in local.enabled_inputs : [
        for proto in input.ip_protocols : {
          key            = "${key}-${proto}"
          input          = key
          ip_protocol    = proto
          container_port = input.container_port
        }
      ]
    ]) : rule.key => rule
  }

  task_subnet_ids = length(var.task_subnet_ids) > 0 ? var.task_subnet_ids : [for m in var.subnet_mappings : m.subnet_id]

  cluster_arn    = var.create_cluster ? aws_ecs_cluster.this[0].arn : var.cluster_arn
  log_group_name = coalesce(var.log_group_name, "/ecs/${var.name}")

  # ECR repository of the image (account, region, repository), or null for another registry
  image_ecr = try(regex("^([0-9]{12})\\.dkr\\.ecr\\.([a-z0-9-]+)\\.amazonaws\\.com(?:\\.cn)?/([^:@]+)", var.image), null)
  ecr_repository_arns = var.ecr_repository_arns != null ? var.ecr_repository_arns : (
    local.image_ecr == null ? [] : ["arn:${local.partition}:ecr:${local.image_ecr[1]}:${local.image_ecr[0]}:repository/${local.image_ecr[2]}"]
  )

  # IAM resources for the secrets: a Secrets Manager valueFrom may carry a
  # ":json-key:version-stage:version-id" suffix that is not part of the secret's ARN
  secret_manager_arns = distinct([
    for arn in values(var.secrets) : join(":", slice(split(":", arn), 0, 7))
    if split(":", arn)[2] == "secretsmanager"
  ])
  ssm_parameter_arns = distinct([for arn in values(var.secrets) : arn if split(":", arn)[2] == "ssm"])

  # DEVICE_CIDRS feeds the config's syslog.allowed_sources (docker/nocbox.yaml), so nocbox drops
  # what the security groups would not have let in anyway
  # With enable_ntp, NOCBOX_NTP turns on the config's `ntp: ${NOCBOX_NTP:-}` section (JSON is
  # YAML): served on ntp_port to device_cidrs, tracking ntp_upstreams
  ntp_environment = var.enable_ntp ? {
    NOCBOX_NTP = jsonencode({
      listen          = "0.0.0.0:${var.ntp_port}"
      upstreams       = var.ntp_upstreams
      allowed_sources = var.device_cidrs
    })
  } : {}
  environment = merge(
    { NOCBOX_HOSTNAME = var.name, DEVICE_CIDRS = join(",", var.device_cidrs) },
    local.ntp_environment,
    var.environment,
  )

  syslog_port_mappings = [
    for proto in var.syslog_port_mapping_protocols : {
      name          = "syslog-${proto}"
      containerPort = var.syslog_port
      hostPort      = var.syslog_port
      protocol      = proto
    }
  ]
  port_mappings = concat(
    var.enable_syslog ? local.syslog_port_mappings : [],
    var.enable_traps ? [{ name = "traps-udp", containerPort = var.traps_port, hostPort = var.traps_port, protocol = "udp" }] : [],
    var.enable_ntp ? [{ name = "ntp-udp", containerPort = var.ntp_port, hostPort = var.ntp_port, protocol = "udp" }] : [],
    [{ name = "api-tcp", containerPort = var.api_port, hostPort = var.api_port, protocol = "tcp" }],
  )

  log_options = merge(
    {
      "awslogs-group"         = local.log_group_name
      "awslogs-region"        = local.region
      "awslogs-stream-prefix" = var.container_name
      "mode"                  = var.log_driver_mode
    },
    # the buffer size applies to non-blocking mode only
    { for k, v in { "max-buffer-size" = var.log_max_buffer_size } : k => v if var.log_driver_mode == "non-blocking" },
  )

  # the container definition as the ECS API spells it (camelCase), command added only when set
  container_definition = merge(local.container_definition_base, local.container_command)
  container_command    = { for k, v in { command = var.command } : k => v if v != null }

  container_definition_base = {
    name      = var.container_name
    image     = var.image
    essential = true

    # the root filesystem is read-only; the task volume at state_path is the one writable place
    readonlyRootFilesystem = true
    mountPoints = [
      { sourceVolume = "state", containerPath = var.state_path, readOnly = false },
    ]

    portMappings = local.port_mappings

    environment = [for k in sort(keys(local.environment)) : { name = k, value = local.environment[k] }]
    secrets     = [for k in sort(keys(var.secrets)) : { name = k, valueFrom = var.secrets[k] }]

    # unprivileged ICMP datagram sockets for ping: Fargate cannot add NET_RAW
    systemControls = [
      { namespace = "net.ipv4.ping_group_range", value = "0 2147483647" },
    ]

    # exec form: the distroless image has no shell
    healthCheck = {
      command = concat(
        ["CMD", var.nocbox_binary_path, "health"],
        var.api_port == 8080 ? [] : ["--url", "http://127.0.0.1:${var.api_port}"],
      )
      interval    = var.container_health_check_interval
      timeout     = var.container_health_check_timeout
      retries     = var.container_health_check_retries
      startPeriod = var.container_health_check_start_period
    }

    # SIGTERM -> nocbox fails its health checks, drains, flushes -> exit 0 before SIGKILL
    stopTimeout = var.stop_timeout

    logConfiguration = {
      logDriver = "awslogs"
      options   = local.log_options
    }
  }
}
