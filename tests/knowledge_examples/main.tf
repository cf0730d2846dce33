provider "aws" {
  region = "us-west-2"
}
provider "azurerm" {
  features {}
}
resource "aws_iam_role_policy" "p" {
  name = "p"
  role = "r"
  policy = "{}"
}
resource "aws_iam_instance_profile" "p" {
  name = "p"
}
resource "aws_iam_openid_connect_provider" "o" {
  url = "https://example.com"
}
resource "aws_bedrockagent_agent" "a" {
  agent_name = "a"
}
resource "aws_s3_bucket_intelligent_tiering_configuration" "t" {
  bucket = "b"
  name = "x"
}
resource "azurerm_linux_web_app" "w" {
  name = "w"
  location = "germanywestcentral"
  resource_group_name = "rg"
  service_plan_id = "x"
  site_config {}
}
resource "azapi_resource" "site" {
  type = "Microsoft.Web/sites@2022-03-01"
  name = "s"
  location = "germanywestcentral"
  parent_id = "x"
  body = {
    properties = {
      httpsOnly = false
    }
  }
}
resource "google_project_iam_binding" "b" {
  project = "p"
  role = "roles/viewer"
  members = ["user:a@example.com"]
}
resource "google_sql_database_instance" "replica" {
  name = "r"
  region = "europe-west3"
  database_version = "POSTGRES_15"
  master_instance_name = "main"
  settings { tier = "db-f1-micro" }
}
resource "aws_pinpoint_app" "campaigns" {
  name = "campaigns"
}
resource "azurerm_mysql_server" "legacy" {
  name                    = "legacy"
  location                = "germanywestcentral"
  resource_group_name     = "rg"
  sku_name                = "GP_Gen5_2"
  version                 = "8.0"
  ssl_enforcement_enabled = false
}
resource "azurerm_mssql_managed_instance" "erp" {
  name                         = "erp"
  location                     = "germanywestcentral"
  resource_group_name          = "rg"
  license_type                 = "BasePrice"
  sku_name                     = "GP_Gen5"
  storage_size_in_gb           = 32
  subnet_id                    = "x"
  vcores                       = 4
  public_data_endpoint_enabled = true
}
resource "aws_cloudwatch_event_bus" "orders" {
  name = "orders"
}
resource "google_workflows_workflow" "billing" {
  name   = "billing"
  region = "europe-west3"
}
