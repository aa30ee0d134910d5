# The same producers, each with a role; and compute that does not talk to Kinesis.

variable "task_role_arn" {
  description = "Chosen at deployment: not known here, so not judged"
  type        = string
}

variable "image" {
  type    = string
  default = "public.ecr.aws/example/producer:1.4.2"
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

resource "aws_iam_role" "producer" {
  name = "roles-present-producer"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = ["ec2.amazonaws.com", "ecs-tasks.amazonaws.com"] }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy" "producer" {
  name = "put-events"
  role = aws_iam_role.producer.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect   = "Allow"
        Action   = ["kinesis:PutRecord", "kinesis:PutRecords", "kinesis:DescribeStreamSummary"]
        Resource = aws_kinesis_stream.events.arn
      },
      {
        Effect   = "Allow"
        Action   = ["kms:GenerateDataKey"]
        Resource = aws_kms_key.events.arn
      }
    ]
  })
}

resource "aws_iam_instance_profile" "producer" {
  name = "roles-present-producer"
  role = aws_iam_role.producer.name
}

resource "aws_instance" "agent" {
  ami                  = "ami-0123456789abcdef0"
  instance_type        = "t3.micro"
  iam_instance_profile = aws_iam_instance_profile.producer.name
  user_data            = <<-EOT
    #!/bin/bash
    yum install -y aws-kinesis-agent
    cat > /etc/aws-kinesis/agent.json <<EOF
    {"flows": [{"filePattern": "/var/log/app/*.log", "kinesisStream": "${aws_kinesis_stream.events.name}"}]}
    EOF
    service aws-kinesis-agent start
  EOT
}

resource "aws_launch_template" "cli" {
  name          = "producer-cli"
  image_id      = "ami-0123456789abcdef0"
  instance_type = "t3.micro"
  iam_instance_profile {
    arn = aws_iam_instance_profile.producer.arn
  }
  user_data = base64encode(<<-EOT
    #!/bin/bash
    aws kinesis put-record --stream-name ${aws_kinesis_stream.events.name} --partition-key boot --data "$(hostname)"
  EOT
  )
}

# No profile of its own: the launch template gives it one.
resource "aws_instance" "from_template" {
  launch_template {
    name    = aws_launch_template.cli.name
    version = "$Latest"
  }
  user_data = "#!/bin/bash\naws kinesis put-record --stream-name ${aws_kinesis_stream.events.name} --partition-key x --data y\n"
}

# No profile, but nothing in its user data talks to Kinesis.
resource "aws_instance" "bastion" {
  ami           = "ami-0123456789abcdef0"
  instance_type = "t3.micro"
  user_data     = "#!/bin/bash\nyum update -y\n"
}

resource "aws_ecs_task_definition" "producer" {
  family        = "producer"
  task_role_arn = aws_iam_role.producer.arn
  container_definitions = jsonencode([{
    name        = "producer"
    image       = var.image
    essential   = true
    environment = [{ name = "STREAM_ARN", value = aws_kinesis_stream.events.arn }]
  }])
}

resource "aws_ecs_task_definition" "role_from_input" {
  family        = "consumer"
  task_role_arn = var.task_role_arn
  container_definitions = jsonencode([{
    name        = "consumer"
    image       = var.image
    essential   = true
    environment = [{ name = "KINESIS_STREAM_NAME", value = aws_kinesis_stream.events.name }]
  }])
}
