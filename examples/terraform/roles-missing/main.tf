# Producers that name a stream but have no role to take credentials from.

variable "task_role_arn" {
  description = "Task role; the default leaves the task without one"
  type        = string
  default     = null
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

# The Kinesis Agent, and no instance profile.
resource "aws_instance" "agent_without_profile" {
  ami           = "ami-0123456789abcdef0"
  instance_type = "t3.micro"
  user_data     = <<-EOT
    #!/bin/bash
    yum install -y aws-kinesis-agent
    cat > /etc/aws-kinesis/agent.json <<EOF
    {"flows": [{"filePattern": "/var/log/app/*.log", "kinesisStream": "${aws_kinesis_stream.events.name}"}]}
    EOF
    service aws-kinesis-agent start
  EOT
}

# The AWS CLI writing to the stream, base64-encoded user data, no iam_instance_profile block.
resource "aws_launch_template" "cli_without_profile" {
  name_prefix   = "producer-"
  image_id      = "ami-0123456789abcdef0"
  instance_type = "t3.micro"
  user_data = base64encode(<<-EOT
    #!/bin/bash
    aws kinesis put-record --stream-name ${aws_kinesis_stream.events.name} --partition-key boot --data "$(hostname)"
  EOT
  )
}

# The stream's ARN in user data handed over already base64-encoded.
resource "aws_launch_configuration" "arn_without_profile" {
  name_prefix      = "producer-"
  image_id         = "ami-0123456789abcdef0"
  instance_type    = "t3.micro"
  user_data_base64 = base64encode("#!/bin/bash\n/opt/producer --stream ${aws_kinesis_stream.events.arn}\n")
}

resource "aws_iam_role" "ecs_execution" {
  name = "roles-missing-ecs-execution"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

# An execution role (for ECS itself) but no task role (for the containers).
resource "aws_ecs_task_definition" "no_task_role" {
  family             = "producer"
  execution_role_arn = aws_iam_role.ecs_execution.arn
  container_definitions = jsonencode([{
    name        = "producer"
    image       = var.image
    essential   = true
    environment = [{ name = "STREAM_ARN", value = aws_kinesis_stream.events.arn }]
  }])
}

resource "aws_ecs_task_definition" "optional_task_role" {
  family        = "consumer"
  task_role_arn = var.task_role_arn
  container_definitions = jsonencode([{
    name        = "consumer"
    image       = var.image
    essential   = true
    environment = [{ name = "KINESIS_STREAM_NAME", value = "events" }]
  }])
}
