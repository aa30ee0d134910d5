variable "name" {
  type = string
}

variable "encryption_type" {
  type    = string
  default = "NONE"
}

resource "aws_kinesis_stream" "this" {
  name            = var.name
  shard_count     = 1
  encryption_type = var.encryption_type
}
