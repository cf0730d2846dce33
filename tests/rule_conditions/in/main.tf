variable "encrypt_ledger" {
  type = bool
}

variable "encrypt_archive" {
  type    = bool
  default = true
}

resource "aws_db_instance" "ledger" {
  engine            = "postgres"
  instance_class    = "db.t3.micro"
  storage_encrypted = var.encrypt_ledger
}

resource "aws_db_instance" "archive" {
  engine            = "postgres"
  instance_class    = "db.t3.micro"
  storage_encrypted = var.encrypt_archive
}

resource "aws_db_instance" "scratch" {
  engine            = "postgres"
  instance_class    = "db.t3.micro"
  storage_encrypted = false
}
