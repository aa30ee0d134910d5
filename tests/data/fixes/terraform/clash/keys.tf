# A key of that name is already taken, for another purpose.
resource "aws_kms_key" "stream" {
  description         = "logs"
  enable_key_rotation = true
}
