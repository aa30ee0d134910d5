resource "aws_kinesis_stream" "s" {
  name = "s"
}
