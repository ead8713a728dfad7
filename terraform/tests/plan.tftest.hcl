# Plan-time tests with a mocked AWS provider: no credentials and no AWS calls.
# Needs Terraform >= 1.7 (mock_provider) and the hashicorp/aws provider for `terraform init`:
#   cd terraform && terraform init -backend=false && terraform test

mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }

  mock_data "aws_region" {
    defaults = {
      name = "eu-west-1"
    }
  }

  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }

  # valid ARNs for the run that applies against the mock (the provider validates ARN arguments)
  mock_resource "aws_lb" {
    defaults = {
      arn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/net/nocbox/0123456789abcdef"
    }
  }

  mock_resource "aws_lb_target_group" {
    defaults = {
      arn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/nocbox/0123456789abcdef"
    }
  }

  mock_resource "aws_ecs_cluster" {
    defaults = {
      arn = "arn:aws:ecs:eu-west-1:123456789012:cluster/nocbox"
    }
  }

  mock_resource "aws_ecs_task_definition" {
    defaults = {
      arn = "arn:aws:ecs:eu-west-1:123456789012:task-definition/nocbox:1"
    }
  }

  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/nocbox"
    }
  }

  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/nocbox"
    }
  }

  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
}

variables {
  vpc_id = "vpc-0123456789abcdef0"
  subnet_mappings = [
    { subnet_id = "subnet-0aaaaaaaaaaaaaaa1", private_ipv4_address = "10.42.1.10" },
    { subnet_id = "subnet-0bbbbbbbbbbbbbbb2", private_ipv4_address = "10.42.2.10" },
  ]
  device_cidrs = ["10.100.0.0/16", "192.168.10.0/24"]
  image        = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/nocbox:0.1.0"
  secrets = {
    DD_API_KEY     = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:nocbox/dd-AbCdEf:api_key::"
    SNMP_COMMUNITY = "arn:aws:ssm:eu-west-1:123456789012:parameter/nocbox/snmp-community"
  }
}

run "defaults_syslog_only" {
  command = plan

  assert {
    condition     = length(aws_lb_listener.syslog) == 1 && length(aws_lb_listener.traps) == 0 && length(aws_lb_listener.ntp) == 0 && keys(aws_lb_target_group.this) == ["syslog"]
    error_message = "By default only the syslog input has a listener and a target group."
  }

  assert {
    condition     = aws_lb_listener.syslog[0].port == 514 && aws_lb_listener.syslog[0].protocol == "TCP_UDP"
    error_message = "The syslog listener must be TCP_UDP on 514."
  }

  assert {
    condition     = aws_lb_target_group.this["syslog"].port == 5514 && aws_lb_target_group.this["syslog"].protocol == "TCP_UDP" && aws_lb_target_group.this["syslog"].target_type == "ip"
    error_message = "The syslog target group must be TCP_UDP on 5514 with ip targets."
  }

  assert {
    condition     = aws_lb_target_group.this["syslog"].connection_termination == true && aws_lb_target_group.this["syslog"].deregistration_delay == "10"
    error_message = "The syslog target group must terminate connections after a 10 s deregistration delay."
  }

  assert {
    condition     = aws_lb_target_group.this["syslog"].preserve_client_ip == "true"
    error_message = "Client IP preservation must be on."
  }

  assert {
    condition = (
      aws_lb_target_group.this["syslog"].health_check[0].protocol == "HTTP" &&
      aws_lb_target_group.this["syslog"].health_check[0].port == "8080" &&
      aws_lb_target_group.this["syslog"].health_check[0].path == "/healthz/syslog"
    )
    error_message = "The syslog target group must be health-checked over HTTP on 8080 at /healthz/syslog."
  }

  assert {
    condition     = aws_lb.this.internal == true && aws_lb.this.load_balancer_type == "network" && aws_lb.this.enable_cross_zone_load_balancing == true
    error_message = "The NLB must be internal with cross-zone load balancing."
  }

  assert {
    condition     = output.nlb_ip_addresses == ["10.42.1.10", "10.42.2.10"]
    error_message = "nlb_ip_addresses must list the fixed addresses in order."
  }

  assert {
    condition     = output.device_endpoints["syslog"].destinations == ["10.42.1.10:514", "10.42.2.10:514"]
    error_message = "device_endpoints must give address:514 for syslog."
  }

  assert {
    condition     = jsondecode(aws_ecs_task_definition.this.container_definitions)[0].readonlyRootFilesystem == true
    error_message = "The container must have a read-only root filesystem."
  }

  assert {
    condition     = jsondecode(aws_ecs_task_definition.this.container_definitions)[0].healthCheck.command == ["CMD", "/usr/local/bin/nocbox", "health"]
    error_message = "The container health check must run nocbox health in exec form."
  }

  assert {
    condition     = jsondecode(aws_ecs_task_definition.this.container_definitions)[0].systemControls == [{ namespace = "net.ipv4.ping_group_range", value = "0 2147483647" }]
    error_message = "The container must set net.ipv4.ping_group_range for unprivileged ping."
  }

  assert {
    condition     = jsondecode(aws_ecs_task_definition.this.container_definitions)[0].stopTimeout == 30
    error_message = "The stop timeout must default to 30 s."
  }

  assert {
    condition = (
      jsondecode(aws_ecs_task_definition.this.container_definitions)[0].logConfiguration.options["mode"] == "non-blocking" &&
      jsondecode(aws_ecs_task_definition.this.container_definitions)[0].logConfiguration.options["max-buffer-size"] == "25m"
    )
    error_message = "awslogs must be non-blocking with an explicit buffer by default."
  }

  assert {
    condition     = one([for e in jsondecode(aws_ecs_task_definition.this.container_definitions)[0].environment : e.value if e.name == "DEVICE_CIDRS"]) == "10.100.0.0/16,192.168.10.0/24"
    error_message = "DEVICE_CIDRS must carry device_cidrs to the config's syslog.allowed_sources."
  }

  assert {
    condition     = [for s in jsondecode(aws_ecs_task_definition.this.container_definitions)[0].secrets : s.name] == ["DD_API_KEY", "SNMP_COMMUNITY"]
    error_message = "Secrets must be passed by ARN as environment variables."
  }

  assert {
    condition     = aws_ecs_task_definition.this.network_mode == "awsvpc" && contains(aws_ecs_task_definition.this.requires_compatibilities, "FARGATE")
    error_message = "The task definition must be a Fargate awsvpc task."
  }

  assert {
    condition     = aws_ecs_service.this.deployment_circuit_breaker[0].enable && aws_ecs_service.this.deployment_circuit_breaker[0].rollback
    error_message = "The service must have the deployment circuit breaker with rollback."
  }

  assert {
    condition     = aws_ecs_service.this.network_configuration[0].assign_public_ip == false
    error_message = "Tasks must not get public IPs."
  }

  assert {
    condition     = aws_cloudwatch_log_group.this.retention_in_days == 30 && aws_cloudwatch_log_group.this.name == "/ecs/nocbox"
    error_message = "The log group must be /ecs/<name> with 30 days of retention."
  }

  assert {
    condition     = length(aws_vpc_security_group_ingress_rule.task_from_devices) == 4
    error_message = "Syslog TCP and UDP from each of the two device CIDRs must be let in to the tasks."
  }

  assert {
    condition     = length(aws_iam_role_policy_attachment.task) == 0
    error_message = "The task role must have no permissions by default."
  }
}

run "all_inputs" {
  command = plan

  variables {
    enable_traps = true
    enable_ntp   = true
  }

  assert {
    condition     = aws_lb_listener.traps[0].port == 162 && aws_lb_listener.traps[0].protocol == "UDP"
    error_message = "The traps listener must be UDP on 162."
  }

  assert {
    condition     = aws_lb_target_group.this["traps"].port == 5162 && aws_lb_target_group.this["traps"].protocol == "UDP"
    error_message = "The traps target group must be UDP on 5162."
  }

  assert {
    condition     = aws_lb_listener.ntp[0].port == 123 && aws_lb_listener.ntp[0].protocol == "UDP"
    error_message = "The NTP listener must be UDP on 123."
  }

  assert {
    condition     = aws_lb_target_group.this["ntp"].port == 5123 && aws_lb_target_group.this["ntp"].protocol == "UDP"
    error_message = "The NTP target group must be UDP on 5123."
  }

  assert {
    condition     = alltrue([for tg in aws_lb_target_group.this : tg.connection_termination && tg.target_type == "ip" && tg.health_check[0].port == "8080"])
    error_message = "Every target group must terminate connections, use ip targets and be checked on the API port."
  }

  assert {
    condition     = aws_lb_target_group.this["traps"].health_check[0].path == "/healthz/traps" && aws_lb_target_group.this["ntp"].health_check[0].path == "/healthz/ntp"
    error_message = "Traps and NTP must be health-checked on their own paths."
  }

  assert {
    condition = jsondecode(one([for e in jsondecode(aws_ecs_task_definition.this.container_definitions)[0].environment : e.value if e.name == "NOCBOX_NTP"])) == {
      listen          = "0.0.0.0:5123"
      upstreams       = ["169.254.169.123:123"]
      allowed_sources = ["10.100.0.0/16", "192.168.10.0/24"]
    }
    error_message = "enable_ntp must turn on the container's NTP service through NOCBOX_NTP, on ntp_port, tracking the Amazon Time Sync Service, for device_cidrs only."
  }
}

run "listeners_forward_to_their_target_group" {
  # apply against the mocked provider, so that the ARNs are known; each target group gets its own
  command = apply

  variables {
    enable_traps = true
    enable_ntp   = true
  }

  override_resource {
    target = aws_lb_target_group.this["syslog"]
    values = {
      arn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/nocbox-syslog/1111111111111111"
    }
  }

  override_resource {
    target = aws_lb_target_group.this["traps"]
    values = {
      arn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/nocbox-traps/2222222222222222"
    }
  }

  override_resource {
    target = aws_lb_target_group.this["ntp"]
    values = {
      arn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/nocbox-ntp/3333333333333333"
    }
  }

  assert {
    condition     = length(distinct(values(aws_lb_target_group.this)[*].arn)) == 3
    error_message = "The overrides must give each target group its own ARN."
  }

  assert {
    condition = (
      aws_lb_listener.syslog[0].default_action[0].target_group_arn == aws_lb_target_group.this["syslog"].arn &&
      aws_lb_listener.traps[0].default_action[0].target_group_arn == aws_lb_target_group.this["traps"].arn &&
      aws_lb_listener.ntp[0].default_action[0].target_group_arn == aws_lb_target_group.this["ntp"].arn
    )
    error_message = "Each listener must forward to the target group of its own input."
  }

  assert {
    condition     = length(aws_lb.this.subnet_mapping) == 2 && contains([for m in aws_lb.this.subnet_mapping : m.private_ipv4_address], "10.42.2.10")
    error_message = "The NLB must have one fixed private address per subnet mapping."
  }

  assert {
    condition     = sort([for lb in aws_ecs_service.this.load_balancer : lb.target_group_arn]) == sort(values(aws_lb_target_group.this)[*].arn)
    error_message = "The service must register its tasks in all three target groups."
  }

  assert {
    condition     = toset([for lb in aws_ecs_service.this.load_balancer : lb.container_port]) == toset([5123, 5162, 5514])
    error_message = "The service must register the container ports 5514, 5162 and 5123."
  }

  assert {
    condition = alltrue([
      for lb in aws_ecs_service.this.load_balancer :
      anytrue([for tg in aws_lb_target_group.this : tg.arn == lb.target_group_arn && tg.port == lb.container_port])
    ])
    error_message = "Each target group must receive the container port it forwards to."
  }
}

run "blocking_logs_and_custom_api_port" {
  command = plan

  variables {
    log_driver_mode = "blocking"
    api_port        = 9000
  }

  assert {
    condition     = !contains(keys(jsondecode(aws_ecs_task_definition.this.container_definitions)[0].logConfiguration.options), "max-buffer-size")
    error_message = "Blocking mode takes no buffer size."
  }

  assert {
    condition     = jsondecode(aws_ecs_task_definition.this.container_definitions)[0].healthCheck.command == ["CMD", "/usr/local/bin/nocbox", "health", "--url", "http://127.0.0.1:9000"]
    error_message = "A non-default API port must be passed to nocbox health."
  }

  assert {
    condition     = aws_lb_target_group.this["syslog"].health_check[0].port == "9000"
    error_message = "NLB health checks must follow the API port."
  }
}

run "existing_cluster_and_image_outside_ecr" {
  command = plan

  variables {
    create_cluster = false
    cluster_arn    = "arn:aws:ecs:eu-west-1:123456789012:cluster/shared"
    image          = "ghcr.io/example/nocbox:0.1.0"
  }

  assert {
    condition     = length(aws_ecs_cluster.this) == 0 && aws_ecs_service.this.cluster == "arn:aws:ecs:eu-west-1:123456789012:cluster/shared"
    error_message = "With create_cluster = false the service must use cluster_arn."
  }

  assert {
    condition     = !contains([for s in data.aws_iam_policy_document.execution.statement : s.sid], "EcrPullImage")
    error_message = "An image outside ECR needs no ECR permissions."
  }
}

run "execution_role_scoped_to_given_arns" {
  command = plan

  assert {
    # compared as JSON: a map of lists and an object of tuples are never == in Terraform
    condition = jsonencode({
      for s in data.aws_iam_policy_document.execution.statement : s.sid => sort(tolist(s.resources))
      if s.sid != "WriteContainerLogs"
      }) == jsonencode({
      EcrAuthorizationToken = ["*"]
      EcrPullImage          = ["arn:aws:ecr:eu-west-1:123456789012:repository/nocbox"]
      ReadSecrets           = ["arn:aws:secretsmanager:eu-west-1:123456789012:secret:nocbox/dd-AbCdEf"]
      ReadParameters        = ["arn:aws:ssm:eu-west-1:123456789012:parameter/nocbox/snmp-community"]
    })
    error_message = "The execution role must be scoped to the image's repository and the given secrets (JSON key suffix removed)."
  }
}

run "rejects_invalid_device_cidr" {
  command = plan

  variables {
    device_cidrs = ["10.0.0.0/33"]
  }

  expect_failures = [var.device_cidrs]
}

run "rejects_privileged_container_port" {
  command = plan

  variables {
    syslog_port = 514
  }

  expect_failures = [var.syslog_port]
}

run "rejects_long_deregistration_delay" {
  command = plan

  variables {
    deregistration_delay = 3601
  }

  expect_failures = [var.deregistration_delay]
}

run "rejects_empty_subnet_mappings" {
  command = plan

  variables {
    subnet_mappings = []
  }

  expect_failures = [var.subnet_mappings]
}
