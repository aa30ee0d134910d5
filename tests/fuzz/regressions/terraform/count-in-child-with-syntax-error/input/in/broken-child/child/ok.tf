
resource "aws_kinesis_stream" "many" {
  count = 1000000
  name  = "s${count.index}"
}


