# Keys made per instance: gated by an input, or one per key of a set.
variable "keys" {
  type    = map(string)
  default = {}
}
variable "create" {
  type    = bool
  default = false
}
resource "aws_kms_key" "each" {
  for_each            = var.keys
  enable_key_rotation = true
}
resource "aws_kms_key" "gated" {
  count               = var.create ? 1 : 0
  enable_key_rotation = true
}
resource "aws_kms_key" "two" {
  for_each            = toset(["a", "b"])
  enable_key_rotation = true
}
resource "aws_kinesis_stream" "s" {
  name        = "s"
  shard_count = 1
}
