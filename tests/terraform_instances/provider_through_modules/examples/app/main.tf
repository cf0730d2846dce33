# The deployment: the only provider configuration, and a call of the reusable module above.
provider "aws" {
  region = local.region
}

locals {
  region = "us-east-2"
}

module "service" {
  source = "../../"

  name = "orders"
}
