module "workspace" {
  source = "../../modules/workspace"
}
