provider "aws" {
  region = "eu-central-1"
}

# A copy in Zurich, under the Swiss adequacy decision, and one in Virginia.
resource "aws_dynamodb_table" "orders" {
  name     = "orders"
  hash_key = "id"

  replica {
    region_name = "eu-central-2"
  }

  replica {
    region_name = "us-east-1"
  }
}

resource "aws_backup_plan" "nightly" {
  name = "nightly"

  rule {
    rule_name         = "nightly"
    target_vault_name = "primary"

    copy_action {
      destination_vault_arn = "arn:aws:backup:eu-west-2:123456789012:backup-vault:london"
    }
  }
}
