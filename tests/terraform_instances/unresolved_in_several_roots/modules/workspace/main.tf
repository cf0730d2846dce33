# A log workspace placed where an optional shared setting says; no deployment gives it.
variable "shared" {
  type = object({
    location = string
  })
  default = null
}

resource "azurerm_log_analytics_workspace" "logs" {
  name                = "logs"
  location            = var.shared.location
  resource_group_name = "observability"
}
