# One queue, deployed by several roots, each in the region of its own provider.
variable "name" {
  type = string
}

resource "aws_sqs_queue" "events" {
  name                    = "${var.name}-events"
  sqs_managed_sse_enabled = true
}
