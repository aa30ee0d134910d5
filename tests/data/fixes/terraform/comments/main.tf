resource "aws_kinesis_stream" "open_comment" {
  name        = "open-comment"
  shard_count = 1 /* a comment that
  goes on */
}

resource "aws_iam_policy" "heredoc" {
  name   = "heredoc"
  policy = <<-POLICY
    {"Version": "2012-10-17", "Statement": []}
  POLICY
}

# the stream's readers also get s3:GetObject on arn:aws:s3:::logs/*
resource "aws_kinesis_stream" "after_line_comment" {
  name        = "after-line-comment"
  shard_count = 1
}
