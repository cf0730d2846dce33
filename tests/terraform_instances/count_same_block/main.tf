provider "aws" {
  region = "eu-central-1"
}

# Three instances of one block: their findings share a place and a message.
resource "aws_sqs_queue" "jobs" {
  count = 3
  name  = "jobs-${count.index}"
}
