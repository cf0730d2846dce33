terraform {
  required_version = ">= 1.3"
}

/* Block comment
   over lines */
// Line comment
variable "settings" {
  type = object({
    regions = optional(list(string), ["eu-west-1"])
    create  = optional(bool, true)
  })
  default = {}

  validation {
    condition     = length(var.settings.regions) > 0
    error_message = "At least one region."
  }
}

locals {
  by_region   = { for r in var.settings.regions : r => upper(r) }
  eu_only     = [for r in var.settings.regions : r if startswith(r, "eu-")]
  first       = try(var.settings.regions[0], null)
  conditional = var.settings.create ? 1 : 0
  splat       = [for o in [{ a = 1 }, { a = 2 }] : o][*].a
  template    = "%{if var.settings.create}on%{else}off%{endif}"
  ellipsis    = merge([{ a = 1 }, { b = 2 }]...)
  wide        = 1e3 > 10 ? "yes" : "no"
}

check "regions" {
  assert {
    condition     = length(local.eu_only) > 0
    error_message = "No EU region."
  }
}

output "all" {
  value     = [local.by_region, local.first, local.conditional, local.splat, local.template, local.ellipsis, local.wide]
  sensitive = false
}

# Terraform's own provider: the expressions reach a resource.
resource "terraform_data" "regions" {
  count = local.conditional
  input = local.by_region
}
