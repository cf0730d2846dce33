provider "aws" {
  region = "eu-central-1"
}

module "queue" {
  source = "../../modules/queue"

  name = "frankfurt"
}
