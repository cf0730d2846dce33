# An object expression may repeat a key; Terraform keeps the last value.
locals {
  regions = {
    primary   = "us-east-1"
    secondary = "eu-west-1"
    primary   = "eu-central-1"
  }
  quoted = {
    "a.b" = 1
    "a.b" = 2
  }
  nested = {
    inner = { x = 1, x = 2 }
  }
}

output "primary" {
  value = local.regions.primary
}

output "others" {
  value = [local.quoted, local.nested]
}
