resource "aws_kms_key" "table" {
  description         = "table key"
  enable_key_rotation = true
}

resource "aws_dynamodb_table" "orders" {
  name     = "orders"
  hash_key = "id"

  attribute {
    name = "id"
    type = "S"
  }
  # the table keeps its point-in-time recovery
  point_in_time_recovery {
    enabled = true
  }
}
