variable "region" {
  type    = string
  default = "us-east-1"
}

locals {
  name = "base"
  size = 1
}

output "name" {
  value = "${local.name}-${local.size}-${var.region}"
}
