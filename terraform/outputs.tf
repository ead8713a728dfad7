################################################################################
# What to configure on the devices
################################################################################

output "nlb_ip_addresses" {
  description = "The NLB's fixed private IPv4 addresses, one per subnet: configure these on the devices as syslog, trap and NTP destinations. They never change for the life of the NLB."
  value       = [for m in var.subnet_mappings : m.private_ipv4_address]
}

output "nlb_ip_addresses_by_subnet" {
  description = "The NLB's fixed private IPv4 address in each subnet (subnet ID => address)."
  value       = { for m in var.subnet_mappings : m.subnet_id => m.private_ipv4_address }
}

output "device_endpoints" {
  description = "For each enabled input, the protocol and the address:port destinations to configure on the devices."
  value = {
    for key, input in local.enabled_inputs : key => {
      protocol     = input.listener_protocol
      port         = input.listener_port
      destinations = [for m in var.subnet_mappings : "${m.private_ipv4_address}:${input.listener_port}"]
    }
  }
}

################################################################################
# Load balancer
################################################################################

output "nlb_arn" {
  description = "ARN of the NLB."
  value       = aws_lb.this.arn
}

output "nlb_dns_name" {
  description = "DNS name of the NLB (resolves to the fixed addresses)."
  value       = aws_lb.this.dns_name
}

output "nlb_zone_id" {
  description = "Route 53 hosted zone ID of the NLB, for alias records."
  value       = aws_lb.this.zone_id
}

output "target_group_arns" {
  description = "ARNs of the target groups, by input (syslog, traps, ntp)."
  value       = { for key, tg in aws_lb_target_group.this : key => tg.arn }
}

output "listener_arns" {
  description = "ARNs of the NLB listeners, by input."
  value = merge(
    { for l in aws_lb_listener.syslog : "syslog" => l.arn },
    { for l in aws_lb_listener.traps : "traps" => l.arn },
    { for l in aws_lb_listener.ntp : "ntp" => l.arn },
  )
}

################################################################################
# ECS
################################################################################

output "cluster_arn" {
  description = "ARN of the ECS cluster the service runs in."
  value       = local.cluster_arn
}

output "service_name" {
  description = "Name of the ECS service."
  value       = aws_ecs_service.this.name
}

output "service_id" {
  description = "ID (ARN) of the ECS service."
  value       = aws_ecs_service.this.id
}

output "task_definition_arn" {
  description = "ARN (with revision) of the task definition."
  value       = aws_ecs_task_definition.this.arn
}

output "task_definition_family" {
  description = "Family of the task definition."
  value       = aws_ecs_task_definition.this.family
}

################################################################################
# Security groups, IAM, logs
################################################################################

output "nlb_security_group_id" {
  description = "ID of the NLB's security group."
  value       = aws_security_group.nlb.id
}

output "task_security_group_id" {
  description = "ID of the tasks' security group."
  value       = aws_security_group.task.id
}

output "execution_role_arn" {
  description = "ARN of the task execution role."
  value       = aws_iam_role.execution.arn
}

output "task_role_arn" {
  description = "ARN of the task role (no permissions unless task_role_policy_arns adds some)."
  value       = aws_iam_role.task.arn
}

output "log_group_name" {
  description = "Name of the CloudWatch log group with the container's output."
  value       = aws_cloudwatch_log_group.this.name
}

output "log_group_arn" {
  description = "ARN of the CloudWatch log group."
  value       = aws_cloudwatch_log_group.this.arn
}
