variable "restore" {
  type = bool
}

variable "reporting_snapshot" {
  type    = string
  default = null
}

# Aurora Serverless v1 clusters are always encrypted.
resource "aws_rds_cluster" "sessions" {
  engine      = "aurora-mysql"
  engine_mode = "serverless"
}

# Provisioned: not encrypted unless asked.
resource "aws_rds_cluster" "ledger" {
  engine = "aurora-postgresql"
}

# Restored from a snapshot: it keeps the snapshot's encryption.
resource "aws_db_instance" "orders" {
  engine              = "postgres"
  instance_class      = "db.t3.micro"
  snapshot_identifier = "arn:aws:rds:eu-central-1:123456789012:snapshot:orders-2026-11-30"
}

# Whether it is restored only the deployment knows.
resource "aws_db_instance" "invoices" {
  engine              = "postgres"
  instance_class      = "db.t3.micro"
  snapshot_identifier = var.restore ? "invoices-final" : null
}

# No snapshot by default: the provider's default applies.
resource "aws_db_instance" "reporting" {
  engine              = "postgres"
  instance_class      = "db.t3.micro"
  snapshot_identifier = var.reporting_snapshot
}
