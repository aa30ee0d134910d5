# Customer managed keys that streams use, with weaknesses in the key itself.

resource "aws_kms_key" "no_rotation" {
  description         = "Rotation left at its default (off)"
  enable_key_rotation = true
}

resource "aws_kms_key" "public_policy" {
  description         = "Anyone may decrypt"
  enable_key_rotation = true
  policy              = <<-POLICY
    {
      "Version": "2012-10-17",
      "Statement": [
        {
          "Sid": "Everyone",
          "Effect": "Allow",
          "Principal": {"AWS": "*"},
          "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
          "Resource": "*"
        }
      ]
    }
  POLICY
}

resource "aws_kms_alias" "public_policy" {
  name          = "alias/public-policy"
  target_key_id = aws_kms_key.public_policy.key_id
}

# Rotation off too, but no stream uses it.
resource "aws_kms_key" "unused" {
  description = "Not used by a stream"
}

resource "aws_kinesis_stream" "rotation_off" {
  name            = "rotation-off"
  shard_count     = 1
  encryption_type = "KMS"
  kms_key_id      = aws_kms_key.no_rotation.arn
}

resource "aws_kinesis_stream" "public_key" {
  name            = "public-key"
  shard_count     = 1
  encryption_type = "KMS"
  kms_key_id      = "alias/public-policy"
}
