# Trails whose log buckets expose the logs (KDS023): a public ACL, a public bucket policy,
# and a bucket without KMS default encryption for a trail that names no KMS key (which is
# also KDS021's). The public ACL on "blocked" is defeated by its public access block.

resource "aws_kms_key" "audit" {
  description         = "CloudTrail log files"
  enable_key_rotation = true
}

resource "aws_cloudtrail" "public_acl" {
  name                       = "public-acl"
  s3_bucket_name             = aws_s3_bucket.public_acl.id
  is_multi_region_trail      = true
  enable_log_file_validation = true
  kms_key_id                 = aws_kms_key.audit.arn
}

resource "aws_s3_bucket" "public_acl" {
  bucket = "acme-audit-public-acl"
}

resource "aws_s3_bucket_acl" "public_acl" {
  bucket = aws_s3_bucket.public_acl.id
  acl    = "public-read"
}

resource "aws_cloudtrail" "public_policy" {
  name                       = "public-policy"
  s3_bucket_name             = "acme-audit-public-policy"
  is_multi_region_trail      = true
  enable_log_file_validation = true
  kms_key_id                 = aws_kms_key.audit.arn
}

resource "aws_s3_bucket" "public_policy" {
  bucket = "acme-audit-public-policy"
}

resource "aws_s3_bucket_policy" "public_policy" {
  bucket = aws_s3_bucket.public_policy.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "ReadLogs"
      Effect    = "Allow"
      Principal = "*"
      Action    = "s3:GetObject"
      Resource  = "${aws_s3_bucket.public_policy.arn}/*"
    }]
  })
}

resource "aws_cloudtrail" "plain_bucket" {
  name                       = "plain-bucket"
  s3_bucket_name             = aws_s3_bucket.plain.id
  is_multi_region_trail      = true
  enable_log_file_validation = true
}

resource "aws_s3_bucket" "plain" {
  bucket = "acme-audit-plain"
}

resource "aws_cloudtrail" "blocked" {
  name                       = "blocked"
  s3_bucket_name             = aws_s3_bucket.blocked.id
  is_multi_region_trail      = true
  enable_log_file_validation = true
  kms_key_id                 = aws_kms_key.audit.arn
}

resource "aws_s3_bucket" "blocked" {
  bucket = "acme-audit-blocked"
}

resource "aws_s3_bucket_acl" "blocked" {
  bucket = aws_s3_bucket.blocked.id
  acl    = "public-read"
}

resource "aws_s3_bucket_public_access_block" "blocked" {
  bucket                  = aws_s3_bucket.blocked.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_kms_key" "streams" {
  description         = "Kinesis streams"
  enable_key_rotation = true
}

resource "aws_kinesis_stream" "orders" {
  name            = "orders"
  shard_count     = 1
  encryption_type = "KMS"
  kms_key_id      = aws_kms_key.streams.arn
}
