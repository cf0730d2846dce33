locals {
  empty_indented = <<-EOT
  EOT

  empty_flush = <<EOT
EOT

  empty_deeper = <<-EOT
        EOT

  blank_line = <<-EOT

  EOT

  inner_marker = <<-EOT
    cat > /etc/environment <<EOF
    A=1
    EOF
  EOT

  in_list = [<<-EOT
    one
  EOT
  ]

  in_call = trimspace(<<-EOT
    two
  EOT
  )

  directives = <<-EOT
    %{for r in ["a", "b"]~}
    ${r}
    %{endfor~}
  EOT
}

output "all" {
  value = [
    local.empty_indented,
    local.empty_flush,
    local.empty_deeper,
    local.blank_line,
    local.inner_marker,
    local.in_list,
    local.in_call,
    local.directives,
  ]
}
