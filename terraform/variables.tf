################################################################################
# General
################################################################################

variable "name" {
  description = "Name of the service; used for the ECS cluster and service, the task family, the NLB, the target groups (`<name>-syslog`, `<name>-traps`, `<name>-ntp`), roles and security groups. 1 to 25 letters, digits or hyphens, so every derived name fits AWS's 32-character limit."
  type        = string
  default     = "nocbox"

  validation {
    condition     = can(regex("^[a-zA-Z0-9]([a-zA-Z0-9-]{0,23}[a-zA-Z0-9])?$", var.name))
    error_message = "The name must be 1 to 25 letters, digits or hyphens, and must not start or end with a hyphen."
  }
}

variable "tags" {
  description = "Tags added to every resource the module creates."
  type        = map(string)
  default     = {}
}

################################################################################
# Network
################################################################################

variable "vpc_id" {
  description = "ID of the VPC for the NLB, the target groups and the security groups."
  type        = string

  validation {
    condition     = can(regex("^vpc-[0-9a-f]+$", var.vpc_id))
    error_message = "The vpc_id must look like vpc-0123456789abcdef0."
  }
}

variable "subnet_mappings" {
  description = "One entry per private subnet (one per Availability Zone) of the internal NLB, each with the fixed private IPv4 address the NLB takes in that subnet. These addresses never change for the life of the NLB: they are what devices are configured with (output `nlb_ip_addresses`). Changing the list replaces the NLB."
  type = list(object({
    subnet_id            = string
    private_ipv4_address = string
  }))

  validation {
    condition     = length(var.subnet_mappings) >= 1
    error_message = "Give at least one subnet mapping (one per Availability Zone the NLB should serve)."
  }

  validation {
    condition     = alltrue([for m in var.subnet_mappings : can(regex("^subnet-[0-9a-f]+$", m.subnet_id))])
    error_message = "Every subnet_id must look like subnet-0123456789abcdef0."
  }

  validation {
    condition = alltrue([
      for m in var.subnet_mappings :
      can(regex("^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$", m.private_ipv4_address))
    ])
    error_message = "Every private_ipv4_address must be a dotted-quad IPv4 address (AWS also requires it to lie inside its subnet, not on the subnet's first four or last address)."
  }

  validation {
    condition     = length(distinct([for m in var.subnet_mappings : m.subnet_id])) == length(var.subnet_mappings)
    error_message = "Each subnet may appear only once: an NLB has one address per subnet."
  }

  validation {
    condition     = length(distinct([for m in var.subnet_mappings : m.private_ipv4_address])) == length(var.subnet_mappings)
    error_message = "The private IPv4 addresses must be distinct."
  }
}

variable "task_subnet_ids" {
  description = "Private subnets for the ECS tasks. Empty (the default) means the subnets of `subnet_mappings`."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for s in var.task_subnet_ids : can(regex("^subnet-[0-9a-f]+$", s))])
    error_message = "Every task subnet ID must look like subnet-0123456789abcdef0."
  }
}

variable "device_cidrs" {
  description = "IPv4 CIDR blocks of the network devices (usually the on-premises ranges reached over Direct Connect or VPN). They are the only sources let in to the NLB listeners and, because the NLB preserves the client address, to the task's service ports; SNMP polling, ping and TCP checks may go out only to them."
  type        = list(string)

  validation {
    condition     = length(var.device_cidrs) >= 1
    error_message = "Give at least one device CIDR block."
  }

  validation {
    condition     = alltrue([for c in var.device_cidrs : can(cidrnetmask(c))])
    error_message = "Every device CIDR must be a valid IPv4 CIDR block such as 10.20.0.0/16."
  }
}

################################################################################
# Inputs: NLB listener port -> target group / container port
################################################################################

variable "enable_syslog" {
  description = "Syslog input: a TCP_UDP listener on `syslog_listener_port` forwarding to the container's `syslog_port`, health-checked on `/healthz/syslog`."
  type        = bool
  default     = true
}

variable "enable_traps" {
  description = "SNMP trap input: a UDP listener on `traps_listener_port` forwarding to `traps_port`, health-checked on `/healthz/traps`. Enable it together with a `NOCBOX_TRAPS` entry in `secrets` (the container config's traps section, with its communities and v3 keys; docs/deploy-aws.md 6.4): without it the container runs no trap input, the health check fails, and ECS replaces the task."
  type        = bool
  default     = false
}

variable "enable_ntp" {
  description = "NTP input: a UDP listener on `ntp_listener_port` forwarding to `ntp_port`, health-checked on `/healthz/ntp`, and the container's NTP service turned on through NOCBOX_NTP (docker/nocbox.yaml), tracking `ntp_upstreams`. ECS replaces a task that fails the health check of any of its target groups, and `/healthz/ntp` fails while no upstream answers: to keep syslog and traps out of that, run NTP as a second instance of this module with only `enable_ntp`."
  type        = bool
  default     = false
}

variable "syslog_listener_port" {
  description = "Port the NLB listens on for syslog (TCP and UDP)."
  type        = number
  default     = 514

  validation {
    condition     = var.syslog_listener_port >= 1 && var.syslog_listener_port <= 65535 && floor(var.syslog_listener_port) == var.syslog_listener_port
    error_message = "The syslog listener port must be an integer from 1 to 65535."
  }
}

variable "traps_listener_port" {
  description = "Port the NLB listens on for SNMP traps (UDP)."
  type        = number
  default     = 162

  validation {
    condition     = var.traps_listener_port >= 1 && var.traps_listener_port <= 65535 && floor(var.traps_listener_port) == var.traps_listener_port
    error_message = "The traps listener port must be an integer from 1 to 65535."
  }
}

variable "ntp_listener_port" {
  description = "Port the NLB listens on for NTP (UDP)."
  type        = number
  default     = 123

  validation {
    condition     = var.ntp_listener_port >= 1 && var.ntp_listener_port <= 65535 && floor(var.ntp_listener_port) == var.ntp_listener_port
    error_message = "The NTP listener port must be an integer from 1 to 65535."
  }
}

variable "syslog_port" {
  description = "Container port of the syslog input (UDP and TCP); must match `syslog.udp.listen`/`syslog.tcp.listen` in the container's config. Unprivileged (>= 1024) because the image runs as a non-root user, which cannot bind ports below 1024 on ECS."
  type        = number
  default     = 5514

  validation {
    condition     = var.syslog_port >= 1024 && var.syslog_port <= 65535 && floor(var.syslog_port) == var.syslog_port
    error_message = "The syslog container port must be an integer from 1024 to 65535 (a non-root process cannot bind lower ports on ECS)."
  }
}

variable "traps_port" {
  description = "Container port of the SNMP trap input (UDP); must match `traps.listen` in the container's config."
  type        = number
  default     = 5162

  validation {
    condition     = var.traps_port >= 1024 && var.traps_port <= 65535 && floor(var.traps_port) == var.traps_port
    error_message = "The traps container port must be an integer from 1024 to 65535 (a non-root process cannot bind lower ports on ECS)."
  }
}

variable "ntp_port" {
  description = "Container port of the NTP input (UDP); must match `ntp.listen` in the container's config."
  type        = number
  default     = 5123

  validation {
    condition     = var.ntp_port >= 1024 && var.ntp_port <= 65535 && floor(var.ntp_port) == var.ntp_port
    error_message = "The NTP container port must be an integer from 1024 to 65535 (a non-root process cannot bind lower ports on ECS)."
  }
}

variable "api_port" {
  description = "Container port of nocbox's HTTP API (`/healthz/<input>`); the NLB health checks of every target group use it instead of the traffic port, because an NLB cannot health-check over UDP. Must match `api.listen` in the container's config."
  type        = number
  default     = 8080

  validation {
    condition     = var.api_port >= 1024 && var.api_port <= 65535 && floor(var.api_port) == var.api_port
    error_message = "The API port must be an integer from 1024 to 65535."
  }
}

variable "syslog_port_mapping_protocols" {
  description = "Protocols declared in the task definition's port mapping for `syslog_port`. The default declares only UDP: ECS refuses a service whose container maps one port number twice (TCP and UDP; aws/amazon-ecs-agent#3428), and in awsvpc mode port mappings do not filter traffic (security groups do), so TCP syslog still reaches the same port through the TCP_UDP target group. Set [\"tcp\", \"udp\"] if your account accepts it."
  type        = list(string)
  default     = ["udp"]

  validation {
    condition     = length(var.syslog_port_mapping_protocols) >= 1 && alltrue([for p in var.syslog_port_mapping_protocols : contains(["tcp", "udp"], p)]) && length(distinct(var.syslog_port_mapping_protocols)) == length(var.syslog_port_mapping_protocols)
    error_message = "Use \"udp\", \"tcp\" or both, each once."
  }
}

################################################################################
# Target groups and NLB
################################################################################

variable "deregistration_delay" {
  description = "Seconds a deregistering task keeps receiving its existing flows before the NLB terminates them (connection termination is always on) and ECS sends SIGTERM. New flows go to the new task at once; short keeps deployments quick."
  type        = number
  default     = 10

  validation {
    condition     = var.deregistration_delay >= 0 && var.deregistration_delay <= 3600 && floor(var.deregistration_delay) == var.deregistration_delay
    error_message = "The deregistration delay must be an integer from 0 to 3600 seconds."
  }
}

variable "health_check_interval" {
  description = "Seconds between NLB health checks of a target."
  type        = number
  default     = 10

  validation {
    condition     = var.health_check_interval >= 5 && var.health_check_interval <= 300
    error_message = "The health check interval must be from 5 to 300 seconds."
  }
}

variable "health_check_timeout" {
  description = "Seconds the NLB waits for a health check answer; must be less than `health_check_interval`."
  type        = number
  default     = 5

  validation {
    condition     = var.health_check_timeout >= 2 && var.health_check_timeout <= 120
    error_message = "The health check timeout must be from 2 to 120 seconds."
  }
}

variable "health_check_healthy_threshold" {
  description = "Consecutive successful health checks before a target counts as healthy (set explicitly: AWS and the provider documentation disagree on the default)."
  type        = number
  default     = 3

  validation {
    condition     = var.health_check_healthy_threshold >= 2 && var.health_check_healthy_threshold <= 10
    error_message = "The healthy threshold must be from 2 to 10."
  }
}

variable "health_check_unhealthy_threshold" {
  description = "Consecutive failed health checks before a target counts as unhealthy."
  type        = number
  default     = 2

  validation {
    condition     = var.health_check_unhealthy_threshold >= 2 && var.health_check_unhealthy_threshold <= 10
    error_message = "The unhealthy threshold must be from 2 to 10."
  }
}

variable "enable_cross_zone_load_balancing" {
  description = "Cross-zone load balancing on the NLB. Keep it on: devices send to fixed IPs, so without it an NLB address in an Availability Zone that has no running task drops the traffic."
  type        = bool
  default     = true
}

variable "enable_deletion_protection" {
  description = "Deletion protection on the NLB, whose fixed addresses are configured on every device. Set it to false before `terraform destroy`."
  type        = bool
  default     = true
}

################################################################################
# ECS cluster and service
################################################################################

variable "create_cluster" {
  description = "Create an ECS cluster named after `name`. Set it to false and give `cluster_arn` to use an existing cluster."
  type        = bool
  default     = true
}

variable "cluster_arn" {
  description = "ARN of an existing ECS cluster; used only when `create_cluster` is false."
  type        = string
  default     = null

  validation {
    condition     = var.cluster_arn == null || can(regex("^arn:aws[a-zA-Z-]*:ecs:[a-z0-9-]+:[0-9]{12}:cluster/.+$", var.cluster_arn))
    error_message = "The cluster_arn must be an ECS cluster ARN (arn:aws:ecs:REGION:ACCOUNT:cluster/NAME)."
  }
}

variable "cluster_container_insights" {
  description = "Container Insights setting of the cluster the module creates: enabled, enhanced or disabled."
  type        = string
  default     = "enabled"

  validation {
    condition     = contains(["enabled", "enhanced", "disabled"], var.cluster_container_insights)
    error_message = "Use enabled, enhanced or disabled."
  }
}

variable "desired_count" {
  description = "Number of tasks. Each task receives syslog, traps and NTP and polls every configured device, so more than one task polls devices twice: to scale polling, run several services with disjoint device lists."
  type        = number
  default     = 1

  validation {
    condition     = var.desired_count >= 0 && var.desired_count <= 100 && floor(var.desired_count) == var.desired_count
    error_message = "The desired count must be an integer from 0 to 100."
  }
}

variable "deployment_minimum_healthy_percent" {
  description = "Lower limit, as a percentage of `desired_count`, of running tasks during a deployment. The default 100 starts the new task before stopping the old one, so no flow goes unserved."
  type        = number
  default     = 100

  validation {
    condition     = var.deployment_minimum_healthy_percent >= 0 && var.deployment_minimum_healthy_percent <= 100
    error_message = "The minimum healthy percent must be from 0 to 100."
  }
}

variable "deployment_maximum_percent" {
  description = "Upper limit, as a percentage of `desired_count`, of running tasks during a deployment."
  type        = number
  default     = 200

  validation {
    condition     = var.deployment_maximum_percent >= 100 && var.deployment_maximum_percent <= 200
    error_message = "The maximum percent must be from 100 to 200."
  }
}

variable "health_check_grace_period_seconds" {
  description = "Seconds after a task starts during which ECS ignores failed NLB health checks."
  type        = number
  default     = 60

  validation {
    condition     = var.health_check_grace_period_seconds >= 0 && var.health_check_grace_period_seconds <= 2147483647
    error_message = "The grace period must be from 0 to 2147483647 seconds."
  }
}

variable "platform_version" {
  description = "Fargate platform version. LATEST (1.4.0 or later) is needed for UDP target groups, `systemControls` and ephemeral storage settings."
  type        = string
  default     = "LATEST"

  validation {
    condition     = var.platform_version == "LATEST" || can(regex("^1\\.([4-9]|[1-9][0-9])\\.[0-9]+$", var.platform_version))
    error_message = "Use LATEST or a platform version of 1.4.0 or later."
  }
}

variable "enable_execute_command" {
  description = "ECS Exec into the running task. Off by default: the image is distroless and has no shell; turning it on also needs SSM permissions on the task role (`task_role_policy_arns`)."
  type        = bool
  default     = false
}

variable "wait_for_steady_state" {
  description = "Make `terraform apply` wait until the service reaches a steady state."
  type        = bool
  default     = false
}

################################################################################
# Task definition and container
################################################################################

variable "image" {
  description = "Container image of nocbox, pinned by tag or digest, for example 123456789012.dkr.ecr.eu-west-1.amazonaws.com/nocbox:1.0.0. For an ECR image the execution role may pull from that repository only (see `ecr_repository_arns`)."
  type        = string

  validation {
    condition     = length(trimspace(var.image)) > 0 && !can(regex(":latest$", var.image))
    error_message = "Give an image reference pinned by tag or digest (not :latest)."
  }
}

variable "container_name" {
  description = "Name of the container in the task definition."
  type        = string
  default     = "nocbox"

  validation {
    condition     = can(regex("^[a-zA-Z0-9][a-zA-Z0-9_-]{0,254}$", var.container_name))
    error_message = "The container name must be 1 to 255 letters, digits, hyphens or underscores."
  }
}

variable "nocbox_binary_path" {
  description = "Absolute path of the nocbox binary in the image; the container health check runs `[\"CMD\", <path>, \"health\"]` (exec form, no shell needed in a distroless image)."
  type        = string
  default     = "/usr/local/bin/nocbox"

  validation {
    condition     = can(regex("^/[^ ]+$", var.nocbox_binary_path))
    error_message = "The binary path must be absolute and contain no spaces."
  }
}

variable "command" {
  description = "Overrides the image's CMD (the arguments after the ENTRYPOINT), for example [\"run\", \"--config\", \"/etc/nocbox/nocbox.yaml\"]. null keeps the image's."
  type        = list(string)
  default     = null
}

variable "cpu" {
  description = "Task CPU units (256 = 0.25 vCPU)."
  type        = number
  default     = 256

  validation {
    condition     = contains([256, 512, 1024, 2048, 4096, 8192, 16384], var.cpu)
    error_message = "Fargate CPU must be one of 256, 512, 1024, 2048, 4096, 8192, 16384."
  }
}

variable "memory" {
  description = "Task memory in MiB; must be a valid Fargate combination with `cpu` (256 CPU: 512, 1024 or 2048)."
  type        = number
  default     = 512

  validation {
    condition     = var.memory >= 512 && var.memory <= 122880 && floor(var.memory) == var.memory
    error_message = "Fargate memory must be an integer from 512 to 122880 MiB."
  }
}

variable "cpu_architecture" {
  description = "CPU architecture of the image: X86_64 or ARM64."
  type        = string
  default     = "X86_64"

  validation {
    condition     = contains(["X86_64", "ARM64"], var.cpu_architecture)
    error_message = "Use X86_64 or ARM64."
  }
}

variable "environment" {
  description = "Plain environment variables of the container (name => value), read by `$${VAR}` references in nocbox's config (docker/nocbox.yaml): for example DD_SITE, NOCBOX_TAGS, NOCBOX_NAMESPACE, SNMP_DEVICES. NOCBOX_HOSTNAME defaults to `name` and DEVICE_CIDRS to `device_cidrs` joined with commas; values given here win. Put secrets in `secrets`, never here."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.environment) : can(regex("^[A-Za-z_][A-Za-z0-9_]*$", k))])
    error_message = "Environment variable names must match ^[A-Za-z_][A-Za-z0-9_]*$."
  }
}

variable "secrets" {
  description = "Secret environment variables of the container: name => ARN of a Secrets Manager secret (optionally with a `:json-key:version-stage:version-id` suffix) or of an SSM parameter, for example DD_API_KEY, SNMP_COMMUNITY and SNMPv3 keys. ECS injects them when the container starts; the execution role may read exactly these."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.secrets) : can(regex("^[A-Za-z_][A-Za-z0-9_]*$", k))])
    error_message = "Secret environment variable names must match ^[A-Za-z_][A-Za-z0-9_]*$."
  }

  validation {
    condition = alltrue([
      for v in values(var.secrets) :
      can(regex("^arn:aws[a-zA-Z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$", v)) || can(regex("^arn:aws[a-zA-Z-]*:ssm:[a-z0-9-]+:[0-9]{12}:parameter/.+$", v))
    ])
    error_message = "Every secret must be a Secrets Manager secret ARN or an SSM parameter ARN."
  }
}

variable "secrets_kms_key_arns" {
  description = "ARNs of customer-managed KMS keys that encrypt the secrets or SecureString parameters; the execution role gets kms:Decrypt on these only. Empty when the secrets use AWS-managed keys."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for k in var.secrets_kms_key_arns : can(regex("^arn:aws[a-zA-Z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", k))])
    error_message = "Every KMS key must be given as a key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)."
  }
}

variable "ecr_repository_arns" {
  description = "ECR repositories the execution role may pull from. null (the default) derives the repository from `image` when it is an ECR image, and grants no ECR access otherwise."
  type        = list(string)
  default     = null

  validation {
    condition     = var.ecr_repository_arns == null ? true : alltrue([for r in var.ecr_repository_arns : can(regex("^arn:aws[a-zA-Z-]*:ecr:[a-z0-9-]+:[0-9]{12}:repository/.+$", r))])
    error_message = "Every ECR repository must be given as an ARN (arn:aws:ecr:REGION:ACCOUNT:repository/NAME)."
  }
}

variable "task_role_policy_arns" {
  description = "IAM policy ARNs attached to the task role (the role nocbox itself runs as), which has no permissions by default: nocbox calls no AWS API."
  type        = list(string)
  default     = []
}

variable "stop_timeout" {
  description = "Seconds ECS waits after SIGTERM before SIGKILL. nocbox drains and flushes within it; Fargate allows at most 120."
  type        = number
  default     = 30

  validation {
    condition     = var.stop_timeout >= 2 && var.stop_timeout <= 120 && floor(var.stop_timeout) == var.stop_timeout
    error_message = "The stop timeout must be an integer from 2 to 120 seconds (the Fargate maximum)."
  }
}

variable "container_health_check_interval" {
  description = "Seconds between runs of the container health check (`nocbox health`)."
  type        = number
  default     = 15

  validation {
    condition     = var.container_health_check_interval >= 5 && var.container_health_check_interval <= 300
    error_message = "The container health check interval must be from 5 to 300 seconds."
  }
}

variable "container_health_check_timeout" {
  description = "Seconds a container health check may take (`nocbox health` gives up after 5)."
  type        = number
  default     = 6

  validation {
    condition     = var.container_health_check_timeout >= 2 && var.container_health_check_timeout <= 60
    error_message = "The container health check timeout must be from 2 to 60 seconds."
  }
}

variable "container_health_check_retries" {
  description = "Failed container health checks in a row before the container is unhealthy and ECS replaces the task."
  type        = number
  default     = 3

  validation {
    condition     = var.container_health_check_retries >= 1 && var.container_health_check_retries <= 10
    error_message = "The container health check retries must be from 1 to 10."
  }
}

variable "container_health_check_start_period" {
  description = "Seconds after start during which failed container health checks do not count."
  type        = number
  default     = 30

  validation {
    condition     = var.container_health_check_start_period >= 0 && var.container_health_check_start_period <= 300
    error_message = "The container health check start period must be from 0 to 300 seconds."
  }
}

variable "state_path" {
  description = "Directory in the container for nocbox's writable state (spool); a task volume on the task's ephemeral storage is mounted there, because the root filesystem is read-only. The image declares it with VOLUME, owned by its non-root user (docker/Dockerfile: /var/lib/nocbox)."
  type        = string
  default     = "/var/lib/nocbox"

  validation {
    condition     = can(regex("^/[^ ]*[^/ ]$", var.state_path)) && var.state_path != "/tmp"
    error_message = "The state path must be an absolute directory other than / and /tmp, without spaces or a trailing slash."
  }
}

variable "ephemeral_storage_size_in_gib" {
  description = "Task ephemeral storage in GiB (21 to 200). null keeps Fargate's 20 GiB."
  type        = number
  default     = null

  validation {
    condition     = var.ephemeral_storage_size_in_gib == null || (coalesce(var.ephemeral_storage_size_in_gib, 21) >= 21 && coalesce(var.ephemeral_storage_size_in_gib, 21) <= 200)
    error_message = "The ephemeral storage size must be from 21 to 200 GiB, or null."
  }
}

################################################################################
# Logs
################################################################################

variable "log_group_name" {
  description = "Name of the CloudWatch log group for the container's output. null means /ecs/<name>."
  type        = string
  default     = null
}

variable "log_retention_days" {
  description = "Days the CloudWatch log group keeps the container's own logs (nocbox's operational output; the device logs it forwards live in Datadog). 0 keeps them forever."
  type        = number
  default     = 30

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "Use a retention CloudWatch Logs accepts: 0 (never expire), 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "log_kms_key_arn" {
  description = "ARN of a KMS key that encrypts the log group. Its key policy must allow the CloudWatch Logs service principal of the region. null uses CloudWatch Logs' own encryption."
  type        = string
  default     = null

  validation {
    condition     = var.log_kms_key_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.log_kms_key_arn))
    error_message = "The log KMS key must be given as a key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)."
  }
}

variable "log_driver_mode" {
  description = "Delivery mode of the awslogs driver: non-blocking (the default; the container never stalls on CloudWatch, and at most `log_max_buffer_size` is buffered, then lines are dropped) or blocking (no loss, but a CloudWatch outage can stall nocbox's stdout)."
  type        = string
  default     = "non-blocking"

  validation {
    condition     = contains(["non-blocking", "blocking"], var.log_driver_mode)
    error_message = "Use non-blocking or blocking."
  }
}

variable "log_max_buffer_size" {
  description = "Buffer of the awslogs driver in non-blocking mode, for example 25m."
  type        = string
  default     = "25m"

  validation {
    condition     = can(regex("^[1-9][0-9]*[kmg]?$", var.log_max_buffer_size))
    error_message = "Give a size such as 4m, 25m or 1g."
  }
}

################################################################################
# Egress: only what nocbox needs
################################################################################

variable "egress_https_cidrs" {
  description = "IPv4 CIDR blocks the task may reach on TCP 443: Datadog's intake, and ECR, CloudWatch Logs and Secrets Manager/SSM (directly, through a NAT gateway or through interface VPC endpoints). Narrow it to your endpoints' or proxy's ranges if you can."
  type        = list(string)
  default     = ["0.0.0.0/0"]

  validation {
    condition     = alltrue([for c in var.egress_https_cidrs : can(cidrnetmask(c))])
    error_message = "Every HTTPS egress CIDR must be a valid IPv4 CIDR block."
  }
}

variable "egress_https_prefix_list_ids" {
  description = "Managed prefix lists the task may reach on TCP 443, for example the S3 gateway endpoint's (ECR image layers come from S3)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for p in var.egress_https_prefix_list_ids : can(regex("^pl-[0-9a-f]+$", p))])
    error_message = "Every prefix list ID must look like pl-0123456789abcdef0."
  }
}

variable "ntp_upstreams" {
  description = "NTP servers the NTP service tracks, as host:port (with enable_ntp). The default is the Amazon Time Sync Service. Keep ntp_upstream_cidrs in step, so the security group lets them through."
  type        = list(string)
  default     = ["169.254.169.123:123"]

  validation {
    condition     = length(var.ntp_upstreams) > 0 && alltrue([for u in var.ntp_upstreams : can(regex("^[^\\s:]+:[0-9]+$|^\\[[0-9a-fA-F:]+\\]:[0-9]+$", u))])
    error_message = "Give at least one NTP upstream, each as host:port or [ipv6]:port."
  }
}

variable "ntp_upstream_cidrs" {
  description = "IPv4 CIDR blocks of the NTP servers nocbox tracks (UDP 123 out). The default is the Amazon Time Sync Service."
  type        = list(string)
  default     = ["169.254.169.123/32"]

  validation {
    condition     = alltrue([for c in var.ntp_upstream_cidrs : can(cidrnetmask(c))])
    error_message = "Every NTP upstream CIDR must be a valid IPv4 CIDR block."
  }
}

variable "enable_snmp_polling" {
  description = "Let the task send SNMP requests (UDP `snmp_ports`) to `device_cidrs`."
  type        = bool
  default     = true
}

variable "snmp_ports" {
  description = "UDP ports the devices' SNMP agents listen on."
  type        = list(number)
  default     = [161]

  validation {
    condition     = alltrue([for p in var.snmp_ports : p >= 1 && p <= 65535 && floor(p) == p])
    error_message = "Every SNMP port must be an integer from 1 to 65535."
  }
}

variable "enable_ping" {
  description = "Let the task send ICMP echo requests to `device_cidrs` (nocbox pings with unprivileged ICMP datagram sockets, allowed by the `net.ipv4.ping_group_range` system control)."
  type        = bool
  default     = true
}

variable "tcp_check_ports" {
  description = "TCP ports on `device_cidrs` that nocbox's TCP checks may connect to, for example [22, 443]."
  type        = list(number)
  default     = []

  validation {
    condition     = alltrue([for p in var.tcp_check_ports : p >= 1 && p <= 65535 && floor(p) == p])
    error_message = "Every TCP check port must be an integer from 1 to 65535."
  }
}
