output "nlb_ip_addresses" {
  description = "Configure these addresses on the devices (syslog, traps and NTP destinations)."
  value       = module.nocbox.nlb_ip_addresses
}

output "device_endpoints" {
  description = "Per input: protocol and address:port destinations for the devices."
  value       = module.nocbox.device_endpoints
}

output "nlb_dns_name" {
  description = "DNS name of the internal NLB."
  value       = module.nocbox.nlb_dns_name
}

output "service_name" {
  description = "Name of the ECS service."
  value       = module.nocbox.service_name
}

output "log_group_name" {
  description = "CloudWatch log group with nocbox's output."
  value       = module.nocbox.log_group_name
}
