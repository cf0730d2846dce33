# The module is handed the workspace as an object: its id is known only at plan time, its
# location is the variable's.
variable "location" {
  type    = string
  default = "centralus"
}

resource "azurerm_log_analytics_workspace" "shared" {
  name                = "shared"
  location            = var.location
  resource_group_name = "operations"
}

module "insights" {
  source = "./insights"

  workspace = {
    id       = azurerm_log_analytics_workspace.shared.id
    location = var.location
  }
}
