provider "aws" {
  region = "eu-central-1"
}

variable "encrypt" {
  type = bool
}

variable "encrypt_known" {
  type    = bool
  default = true
}

data "aws_ssm_parameter" "pitr" {
  name = "/db/pitr"
}

resource "aws_db_instance" "decided_at_deploy" {
  engine            = "postgres"
  instance_class    = "db.t3.micro"
  storage_encrypted = var.encrypt
}

resource "aws_db_instance" "known" {
  engine            = "postgres"
  instance_class    = "db.t3.micro"
  storage_encrypted = var.encrypt_known
}

resource "aws_dynamodb_table" "sessions" {
  name     = "sessions"
  hash_key = "id"

  dynamic "point_in_time_recovery" {
    for_each = data.aws_ssm_parameter.pitr.value == "on" ? [1] : []
    content {
      enabled = true
    }
  }
}

resource "aws_sqs_queue" "orders" {
  name              = "orders"
  kms_master_key_id = "alias/orders"
}
