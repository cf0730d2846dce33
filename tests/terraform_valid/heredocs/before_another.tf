# An empty heredoc with an indented closing marker, followed by another heredoc of the same
# delimiter: the first must end at its own marker.
variable "extra_values" {
  type    = string
  default = ""
}

locals {
  first_values = var.extra_values != "" ? var.extra_values : <<EOT
  EOT

  second_values = (var.extra_values == "" ? <<-EOT
node:
  selector: worker
EOT
  : "")

  after = "still read"
}

output "values" {
  value = [local.first_values, local.second_values, local.after]
}
