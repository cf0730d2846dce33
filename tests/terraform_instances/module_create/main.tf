provider "aws" {
  region = "us-east-1"
}

# `create = false` flows into the module: its bucket is never created.
module "disabled" {
  source = "./modules/bucket"
  create = false
  name   = "disabled"
}

# A call with count 0 creates nothing either.
module "skipped" {
  source = "./modules/bucket"
  count  = 0
  name   = "skipped"
}

module "enabled" {
  source = "./modules/bucket"
  name   = "enabled"
}

variable "enabled" {
  type = bool
}

# Created only if a value the scan does not know says so: scanned, with the call's note.
module "maybe" {
  source = "./modules/bucket"
  count  = var.enabled ? 1 : 0
  name   = "maybe"
}
