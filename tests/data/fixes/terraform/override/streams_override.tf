# Terraform merges this over the block in main.tf: an edit there would be overruled.
resource "aws_kinesis_stream" "events" {
  encryption_type = "NONE"
}
