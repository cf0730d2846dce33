variable "name" {
  type = string
}

variable "replicas" {
  type = list(object({
    region_name = string
    kms_key_arn = optional(string)
  }))
  default = []
}

resource "aws_dynamodb_table" "this" {
  name     = var.name
  hash_key = "id"

  point_in_time_recovery {
    enabled = true
  }

  dynamic "replica" {
    for_each = var.replicas
    content {
      region_name = replica.value.region_name
      kms_key_arn = lookup(replica.value, "kms_key_arn", null)
    }
  }
}
