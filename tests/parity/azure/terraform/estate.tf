# The shop's Azure estate as the azurerm provider declares it; the ARM template beside this
# folder declares the same resources under the same names.
provider "azurerm" {
  features {}
}

resource "azurerm_storage_account" "bucket" {
  name                            = "bucket"
  resource_group_name             = "shop"
  location                        = "germanywestcentral"
  account_tier                    = "Standard"
  account_replication_type        = "LRS"
  allow_nested_items_to_be_public = true
  min_tls_version                 = "TLS1_0"
}

resource "azurerm_mssql_server" "database" {
  name                = "database"
  resource_group_name = "shop"
  location            = "germanywestcentral"
  version             = "12.0"
  minimum_tls_version = "1.0"
}

resource "azurerm_redis_cache" "cache" {
  name                 = "cache"
  resource_group_name  = "shop"
  location             = "germanywestcentral"
  capacity             = 1
  family               = "C"
  sku_name             = "Standard"
  non_ssl_port_enabled = true
}

resource "azurerm_log_analytics_workspace" "logs" {
  name                = "logs"
  resource_group_name = "shop"
  location            = "germanywestcentral"
  retention_in_days   = 730
}

resource "azurerm_managed_disk" "volume" {
  name                 = "volume"
  resource_group_name  = "shop"
  location             = "germanywestcentral"
  storage_account_type = "Standard_LRS"
  create_option        = "Empty"
  disk_size_gb         = 10
}

resource "azurerm_cosmosdb_account" "table" {
  name                = "table"
  resource_group_name = "shop"
  location            = "germanywestcentral"
  offer_type          = "Standard"

  consistency_policy {
    consistency_level = "Session"
  }

  geo_location {
    location          = "germanywestcentral"
    failover_priority = 0
  }
}

resource "azurerm_linux_web_app" "webapp" {
  name                = "webapp"
  resource_group_name = "shop"
  location            = "germanywestcentral"
  service_plan_id     = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/shop/providers/Microsoft.Web/serverFarms/plan"

  site_config {}
}

# Set securely: no GDPR finding.
resource "azurerm_linux_web_app" "securewebapp" {
  name                = "securewebapp"
  resource_group_name = "shop"
  location            = "germanywestcentral"
  service_plan_id     = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/shop/providers/Microsoft.Web/serverFarms/plan"
  https_only          = true

  site_config {
    minimum_tls_version = "1.2"
  }
}
