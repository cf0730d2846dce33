# The shop's AWS estate as Terraform declares it. Every resource is named after its role, the
# same name as in the CloudFormation template and the AWS Config snapshot beside this folder.
provider "aws" {
  region = "eu-central-1"
}

resource "aws_s3_bucket" "bucket" {
  bucket = "shop-public-assets"
  acl    = "public-read"
}

resource "aws_db_instance" "database" {
  identifier              = "database"
  engine                  = "postgres"
  instance_class          = "db.t3.micro"
  allocated_storage       = 20
  backup_retention_period = 0
}

resource "aws_elasticache_replication_group" "cache" {
  replication_group_id = "cache"
  description          = "sessions"
  engine               = "redis"
}

resource "aws_cloudwatch_log_group" "logs" {
  name = "logs"
}

resource "aws_ebs_volume" "volume" {
  availability_zone = "eu-central-1a"
  size              = 10
}

resource "aws_efs_file_system" "files" {
  creation_token = "files"
}

resource "aws_dynamodb_table" "table" {
  name         = "table"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"

  attribute {
    name = "id"
    type = "S"
  }
}

# Set securely: no GDPR finding.
resource "aws_db_instance" "secure_database" {
  identifier              = "secure-database"
  engine                  = "postgres"
  instance_class          = "db.t3.micro"
  allocated_storage       = 20
  storage_encrypted       = true
  kms_key_id              = "arn:aws:kms:eu-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  backup_retention_period = 7
}

resource "aws_cloudwatch_log_group" "secure_logs" {
  name              = "secure-logs"
  retention_in_days = 90
}

resource "aws_dynamodb_table" "secure_table" {
  name         = "secure-table"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"

  attribute {
    name = "id"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }
}
