variable "region" {
  default = "eu-west-1"
}

locals {
  name = "overridden"
}
