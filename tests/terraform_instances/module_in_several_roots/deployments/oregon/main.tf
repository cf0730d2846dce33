provider "aws" {
  region = "us-west-2"
}

module "queue" {
  source = "../../modules/queue"

  name = "oregon"
}
