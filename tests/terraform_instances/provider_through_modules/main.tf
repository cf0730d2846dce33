# A reusable module with no resources of its own: the provider its caller configures reaches
# the module it calls without being named.
variable "name" {
  type = string
}

variable "region" {
  description = "Where the store is managed; null keeps the provider's region."
  type        = string
  default     = null
}

module "store" {
  source = "./modules/store"

  name   = var.name
  region = var.region
}
