# Producers that carry AWS access keys in their configuration (AWS's documentation example
# keys). Each one also has a role: the keys are what this example is about.

variable "agent_key_id" {
  description = "Kinesis Agent access key id, filled in at deployment"
  type        = string
}

variable "agent_secret" {
  type      = string
  sensitive = true
}

variable "image" {
  description = "Producer image, no default: tfparse cannot evaluate the jsonencode() below"
  type        = string
}

provider "aws" {
  alias      = "producer"
  region     = "eu-west-1"
  access_key = "AKIAIOSFODNN7EXAMPLE"
  secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
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
  name               = "creds-producer"
  assume_role_policy = data.aws_iam_policy_document.lambda_trust.json
}

resource "aws_lambda_function" "with_keys" {
  function_name = "producer-with-keys"
  role          = aws_iam_role.producer.arn
  runtime       = "python3.12"
  handler       = "app.handler"
  filename      = "producer.zip"
  environment {
    variables = {
      STREAM_NAME           = "events"
      AWS_ACCESS_KEY_ID     = "AKIAIOSFODNN7EXAMPLE"
      AWS_SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    }
  }
}

resource "aws_ecs_task_definition" "with_keys" {
  family        = "producer"
  task_role_arn = "arn:aws:iam::123456789012:role/producer-task"
  container_definitions = jsonencode([
    {
      name      = "producer"
      image     = var.image
      essential = true
      environment = [
        { name = "STREAM_NAME", value = "events" },
        { name = "AWS_ACCESS_KEY_ID", value = "AKIAIOSFODNN7EXAMPLE" },
        { name = "AWS_SECRET_ACCESS_KEY", value = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" },
      ]
    }
  ])
}

# The agent's keys are templated: still a finding, the agent should use the instance role.
resource "aws_instance" "agent_with_keys" {
  ami                  = "ami-0123456789abcdef0"
  instance_type        = "t3.micro"
  iam_instance_profile = "producer-profile"
  user_data            = <<-EOT
    #!/bin/bash
    yum install -y aws-kinesis-agent
    cat > /etc/aws-kinesis/agent.json <<EOF
    {
      "awsAccessKeyId": "${var.agent_key_id}",
      "awsSecretAccessKey": "${var.agent_secret}",
      "flows": [{ "filePattern": "/var/log/app/*.log", "kinesisStream": "events" }]
    }
    EOF
    service aws-kinesis-agent start
  EOT
}

# base64encode(templatefile(...)): the keys are in the template file.
resource "aws_launch_template" "base64_keys" {
  name_prefix   = "producer-"
  image_id      = "ami-0123456789abcdef0"
  instance_type = "t3.micro"
  iam_instance_profile {
    name = "producer-profile"
  }
  user_data = base64encode(templatefile("${path.module}/producer.sh.tftpl", {
    stream = "events"
    image  = var.image
  }))
}
