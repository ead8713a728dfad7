terraform {
  # lifecycle preconditions need 1.2; tests/*.tftest.hcl with mock_provider need 1.7
  required_version = ">= 1.3"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # security groups on Network Load Balancers and aws_vpc_security_group_*_rule
      version = ">= 5.0"
    }
  }
}
