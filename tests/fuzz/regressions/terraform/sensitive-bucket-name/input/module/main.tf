resource "aws_kinesis_stream" "events" {
  name            = "events"
  encryption_type = "KMS"
  kms_key_id      = "alias/aws/kinesis"
}

resource "aws_s3_bucket" "b" {
  bucket = sensitive("name")
}
