resource "aws_dynamodb_table" "orders" {
	name     = "orders"
	hash_key = "id"

	attribute {
		name = "id"
		type = "S"
	}
}

resource "aws_kms_key" "table" {
	enable_key_rotation = false
}
