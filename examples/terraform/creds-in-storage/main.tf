# Long-term keys that the template itself writes into storage for producers to fetch later
# (AWS's documentation example keys): S3 objects and plain SSM parameters. Whoever can read
# the bucket or the parameter, now or from a backup, holds the producer's keys.

data "aws_kinesis_stream" "clicks" {
  name = "clicks"
}

# The producer is an IAM user with an access key (KDS010, KDS011).
resource "aws_iam_user" "uploader" {
  name = "clicks-uploader"
}

resource "aws_iam_user_policy" "uploader" {
  name = "put-clicks"
  user = aws_iam_user.uploader.name
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = ["kinesis:PutRecord", "kinesis:PutRecords"], Resource = data.aws_kinesis_stream.clicks.arn }]
  })
}

resource "aws_iam_access_key" "uploader" {
  user = aws_iam_user.uploader.name
}

resource "aws_s3_bucket" "config" {
  bucket = "clicks-producer-config"
}

# Kinesis Agent configuration rendered with the user's key, for instances to download.
resource "aws_s3_object" "agent_config" {
  bucket = aws_s3_bucket.config.id
  key    = "agent/agent.json"
  content = templatefile("${path.module}/agent.json.tftpl", {
    key_id = aws_iam_access_key.uploader.id
    secret = aws_iam_access_key.uploader.secret
    stream = data.aws_kinesis_stream.clicks.name
  })
}

# An SDK shared credentials file from the module's directory, uploaded as it is.
resource "aws_s3_object" "sdk_credentials" {
  bucket = aws_s3_bucket.config.id
  key    = "sdk/credentials"
  source = "${path.module}/credentials.ini"
}

# The older resource type, with the keys written out in JSON.
resource "aws_s3_bucket_object" "legacy_settings" {
  bucket = aws_s3_bucket.config.id
  key    = "legacy/settings.json"
  content = jsonencode({
    stream             = "clicks"
    awsAccessKeyId     = "AKIAIOSFODNN7EXAMPLE"
    awsSecretAccessKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
  })
}

# The user's secret in a String parameter: stored in plain text, shown to anyone allowed
# ssm:GetParameter, with no KMS key to control who decrypts it.
resource "aws_ssm_parameter" "uploader_secret" {
  name  = "/clicks/uploader/secret"
  type  = "String"
  value = aws_iam_access_key.uploader.secret
}

resource "aws_ssm_parameter" "pasted_keys" {
  name  = "/clicks/legacy/keys"
  type  = "StringList"
  value = "AKIAIOSFODNN7EXAMPLE,wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
}
