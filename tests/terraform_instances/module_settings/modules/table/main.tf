variable "name" {
  type = string
}

variable "point_in_time_recovery" {
  type    = bool
  default = false
}

resource "aws_dynamodb_table" "this" {
  name     = var.name
  hash_key = "id"

  point_in_time_recovery {
    enabled = var.point_in_time_recovery
  }
}
