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
