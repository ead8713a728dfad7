provider "aws" {
  region = local.region
}

# Replace these placeholders with your own VPC, subnets, addresses, image and secrets.
locals {
  region = "eu-west-1"
  name   = "nocbox-example"

  vpc_id = "vpc-0123456789abcdef0"

  # One private subnet per Availability Zone, each with a free address that the NLB keeps for
  # its whole life: these are the addresses the devices send to.
  subnet_mappings = [
    { subnet_id = "subnet-0aaaaaaaaaaaaaaa1", private_ipv4_address = "10.42.1.10" },
    { subnet_id = "subnet-0bbbbbbbbbbbbbbb2", private_ipv4_address = "10.42.2.10" },
  ]

  # The devices' networks, reached over Direct Connect or VPN
  device_cidrs = ["10.100.0.0/16", "192.168.10.0/24"]

  tags = {
    Example    = local.name
    Repository = "nocbox"
  }
}

module "nocbox" {
  source = "../../"

  name            = local.name
  vpc_id          = local.vpc_id
  subnet_mappings = local.subnet_mappings
  device_cidrs    = local.device_cidrs

  image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/nocbox:0.1.0"

  # Inputs: syslog on 514 (TCP and UDP) is on by default. Turn traps and NTP on once the
  # container's config has their sections.
  enable_syslog = true
  enable_traps  = false
  enable_ntp    = false

  # Read by ${VAR} references in the container's config (docker/nocbox.yaml); DEVICE_CIDRS is
  # set from device_cidrs by the module
  environment = {
    DD_SITE          = "datadoghq.eu"
    NOCBOX_HOSTNAME  = "nocbox-eu-west-1"
    NOCBOX_TAGS      = "env:example,site:eu-west-1"
    NOCBOX_NAMESPACE = "example"
    SNMP_DEVICES     = "[{ip_address: 10.100.0.1, name: core-sw01}, {ip_address: 192.168.10.1, name: srx01}]"
  }

  # Injected by ECS when the container starts; the execution role may read exactly these
  secrets = {
    DD_API_KEY = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:nocbox/datadog-api-key-AbCdEf"
    # Add SNMP_COMMUNITY and SNMPv3 keys here once SNMP polling lands; every ARN listed must
    # exist, or ECS cannot start the task.
  }

  # Devices answer SSH on 22: let nocbox's TCP checks reach it
  tcp_check_ports = [22]

  log_retention_days = 30

  tags = local.tags
}
