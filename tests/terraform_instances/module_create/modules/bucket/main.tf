variable "create" {
  type    = bool
  default = true
}

variable "name" {
  type = string
}

resource "aws_s3_bucket" "this" {
  count  = var.create ? 1 : 0
  bucket = var.name
}
