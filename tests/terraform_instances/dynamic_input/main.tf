provider "aws" {
  region = "eu-central-1"
}

resource "aws_kms_key" "replica" {
  description = "replica key"
}

module "orders" {
  source = "./table"

  name = "orders"
  replicas = [
    {
      region_name = "eu-west-1"
      kms_key_arn = aws_kms_key.replica.arn
    },
    {
      region_name = "us-west-2"
      kms_key_arn = aws_kms_key.replica.arn
    },
  ]
}
