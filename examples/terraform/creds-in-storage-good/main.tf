# Configuration stored for producers without keys: the agent and the SDK take credentials
# from the instance's role. A key that must exist (a partner outside AWS, with no Kinesis
# permissions) is kept in a SecureString parameter and in Secrets Manager, never in plain text.

data "aws_kinesis_stream" "clicks" {
  name = "clicks"
}

resource "aws_s3_bucket" "config" {
  bucket = "clicks-producer-config"
}

resource "aws_s3_object" "agent_config" {
  bucket = aws_s3_bucket.config.id
  key    = "agent/agent.json"
  content = jsonencode({
    "kinesis.endpoint" = "kinesis.us-east-1.amazonaws.com"
    flows              = [{ filePattern = "/var/log/clicks/*.log", kinesisStream = data.aws_kinesis_stream.clicks.name }]
  })
}

resource "aws_s3_object" "sdk_config" {
  bucket = aws_s3_bucket.config.id
  key    = "sdk/config"
  source = "${path.module}/config.ini"
}

resource "aws_ssm_parameter" "stream_name" {
  name  = "/clicks/stream-name"
  type  = "String"
  value = data.aws_kinesis_stream.clicks.name
}

resource "aws_iam_user" "partner" {
  name = "clicks-partner"
}

resource "aws_iam_access_key" "partner" {
  user = aws_iam_user.partner.name
}

resource "aws_kms_key" "parameters" {
  description         = "Parameters and secrets of the clicks pipeline"
  enable_key_rotation = true
}

# A key id alone is not a secret.
resource "aws_ssm_parameter" "partner_key_id" {
  name  = "/clicks/partner/key-id"
  type  = "String"
  value = aws_iam_access_key.partner.id
}

resource "aws_ssm_parameter" "partner_secret" {
  name   = "/clicks/partner/secret"
  type   = "SecureString"
  key_id = aws_kms_key.parameters.arn
  value  = aws_iam_access_key.partner.secret
}

resource "aws_secretsmanager_secret" "partner" {
  name       = "clicks/partner"
  kms_key_id = aws_kms_key.parameters.arn
}

resource "aws_secretsmanager_secret_version" "partner" {
  secret_id = aws_secretsmanager_secret.partner.id
  secret_string = jsonencode({
    aws_access_key_id     = aws_iam_access_key.partner.id
    aws_secret_access_key = aws_iam_access_key.partner.secret
  })
}
