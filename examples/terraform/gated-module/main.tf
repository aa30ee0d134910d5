# A reusable module, written as module authors do: every block is switched by an input, and
# with the input defaults it creates nothing. kds-iac judges each block as the instance it
# would create, and each finding says which input creates it.

variable "create_consumer_user" {
  description = "Create an IAM user (with an access key) for an off-AWS consumer"
  type        = bool
  default     = false
}

variable "streams" {
  description = "Streams to create, by name"
  type        = map(object({ shard_count = number }))
  default     = {}
}

variable "archive_enabled" {
  type    = bool
  default = false
}

# KDS010, KDS011: an IAM user with an access key for Kinesis, when created
resource "aws_iam_user" "consumer" {
  count = var.create_consumer_user ? 1 : 0
  name  = "stream-consumer"
}

resource "aws_iam_access_key" "consumer" {
  count = var.create_consumer_user ? 1 : 0
  user  = aws_iam_user.consumer[0].name
}

# KDS004, KDS005: kinesis:* on every stream
resource "aws_iam_user_policy" "consumer" {
  count = var.create_consumer_user ? 1 : 0
  name  = "stream-consumer"
  user  = aws_iam_user.consumer[0].name
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "kinesis:*", Resource = "*" }]
  })
}

# KDS001: one unencrypted stream per entry of a map that defaults to empty
resource "aws_kinesis_stream" "this" {
  for_each    = var.streams
  name        = each.key
  shard_count = each.value.shard_count
}

# KDS001 in the child module: a module call switched off with count = 0
module "archive" {
  source = "./modules/archive"
  count  = var.archive_enabled ? 1 : 0
}

# KDS001 again: a module call written with count = 0 is still judged (it deploys once count changes)
module "legacy_archive" {
  source = "./modules/archive"
  count  = 0
}
