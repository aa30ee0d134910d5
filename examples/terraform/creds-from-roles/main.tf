# The same producers without keys: each gets its credentials from a role.

variable "image" {
  type    = string
  default = "public.ecr.aws/example/producer:1.4.2"
}

provider "aws" {
  alias  = "producer"
  region = "eu-west-1"
  assume_role {
    role_arn = "arn:aws:iam::123456789012:role/deployer"
  }
}

data "aws_caller_identity" "current" {}

resource "aws_kms_key" "events" {
  description         = "events stream"
  enable_key_rotation = true
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "AccountAdministration"
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root" }
      Action    = "kms:*"
      Resource  = "*"
    }]
  })
}

resource "aws_kinesis_stream" "events" {
  name            = "events"
  shard_count     = 1
  encryption_type = "KMS"
  kms_key_id      = aws_kms_key.events.arn
}

data "aws_iam_policy_document" "lambda_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "producer" {
  name               = "roles-producer"
  assume_role_policy = data.aws_iam_policy_document.lambda_trust.json
}

resource "aws_lambda_function" "producer" {
  function_name = "producer"
  role          = aws_iam_role.producer.arn
  runtime       = "python3.12"
  handler       = "app.handler"
  filename      = "producer.zip"
  environment {
    variables = {
      STREAM_NAME = aws_kinesis_stream.events.name
      # a 40-character hex digest is not a secret access key
      BUILD_SHA = "3f786850e387550fdab836ed7e6dc881de23001b"
    }
  }
}

resource "aws_ecs_task_definition" "producer" {
  family        = "producer"
  task_role_arn = "arn:aws:iam::123456789012:role/producer-task"
  container_definitions = jsonencode([
    {
      name        = "producer"
      image       = var.image
      essential   = true
      environment = [{ name = "STREAM_NAME", value = aws_kinesis_stream.events.name }]
    }
  ])
}

resource "aws_instance" "agent" {
  ami                  = "ami-0123456789abcdef0"
  instance_type        = "t3.micro"
  iam_instance_profile = "producer-profile"
  user_data            = <<-EOT
    #!/bin/bash
    yum install -y aws-kinesis-agent
    cat > /etc/aws-kinesis/agent.json <<EOF
    {
      "kinesis.endpoint": "kinesis.eu-west-1.amazonaws.com",
      "flows": [{ "filePattern": "/var/log/app/*.log", "kinesisStream": "${aws_kinesis_stream.events.name}" }]
    }
    EOF
    service aws-kinesis-agent start
  EOT
}

resource "aws_launch_template" "producer" {
  name_prefix   = "producer-"
  image_id      = "ami-0123456789abcdef0"
  instance_type = "t3.micro"
  iam_instance_profile {
    name = "producer-profile"
  }
  user_data = base64encode(templatefile("${path.module}/producer.sh.tftpl", {
    stream = aws_kinesis_stream.events.name
    image  = var.image
  }))
}
