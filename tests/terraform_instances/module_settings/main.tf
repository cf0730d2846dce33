provider "aws" {
  region = "eu-west-1"
}

variable "carts_history" {
  type = bool
}

# The module's default leaves point-in-time recovery off.
module "sessions" {
  source = "./modules/table"
  name   = "sessions"
}

module "orders" {
  source                 = "./modules/table"
  name                   = "orders"
  point_in_time_recovery = true
}

# Decided at deployment: no finding either way.
module "carts" {
  source                 = "./modules/table"
  name                   = "carts"
  point_in_time_recovery = var.carts_history
}

# Switched off by the caller: the finding in the module names where.
module "audit" {
  source                 = "./modules/table"
  name                   = "audit"
  point_in_time_recovery = false
}
