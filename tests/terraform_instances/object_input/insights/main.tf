variable "workspace" {
  type = object({
    id       = string
    location = string
  })
}

resource "azurerm_storage_account" "exports" {
  name                     = "insightsexports"
  resource_group_name      = "operations"
  location                 = var.workspace.location
  account_tier             = "Standard"
  account_replication_type = "LRS"
}
