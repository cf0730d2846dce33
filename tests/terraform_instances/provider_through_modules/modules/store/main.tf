variable "name" {
  type = string
}

variable "region" {
  type    = string
  default = null
}

resource "aws_db_instance" "this" {
  identifier        = var.name
  instance_class    = "db.t4g.micro"
  engine            = "postgres"
  allocated_storage = 20
  storage_encrypted = true
  region            = var.region
}

resource "aws_sqs_queue" "events" {
  name = "${var.name}-events"
}
