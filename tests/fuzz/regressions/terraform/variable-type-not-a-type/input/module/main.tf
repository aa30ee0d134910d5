variable "bad_type" {
  type = notatype
}

resource "aws_kinesis_stream" "events" {
  name            = "events"
  encryption_type = "KMS"
  kms_key_id      = "alias/aws/kinesis"
}
