# AWS managed policies recognized by ARN, however they are attached: the broad ones (KDS008),
# and one that reads every stream (KDS005).

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}
resource "aws_kinesis_stream" "dup" {
}
resource "aws_kinesis_stream" "dup" {
}



resource "aws_iam_role" "lambda" {
  name               = "stream-processor"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

resource "aws_iam_role_policy_attachment" "kinesis_full_access" {
  role       = aws_iam_role.lambda.name
  policy_arn = "arn:aws:iam::aws:policy/AmazonKinesisFullAccess"
}

resource "aws_iam_role_policy_attachment" "lambda_kinesis_execution" {
  role       = aws_iam_role.lambda.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaKinesisExecutionRole"
}

resource "aws_iam_role_policy_attachment" "basic_execution" {
  role       = aws_iam_role.lambda.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
}

# aws_iam_policy_attachment to a user and a role (the user also holds Kinesis
# permissions through it: KDS010)
resource "aws_iam_user" "operator" {
  name = "stream-operator"
}

resource "aws_iam_policy_attachment" "admins" {
  name       = "administrators"
  users      = [aws_iam_user.operator.name]
  roles      = [aws_iam_role.lambda.name]
  policy_arn = "arn:aws:iam::aws:policy/AdministratorAccess"
}

# managed_policy_arns on the role
resource "aws_iam_role" "power_user" {
  name                = "power-user"
  assume_role_policy  = data.aws_iam_policy_document.lambda_assume.json
  managed_policy_arns = ["arn:aws:iam::aws:policy/PowerUserAccess"]
}
resource "aws_kinesis_stream" "many" {
  count = (((((1000000)))))
  name  = "s${count.index}"
}



# a policy looked up by name, attached to a group
data "aws_iam_policy" "analytics" {
  name = "AmazonKinesisAnalyticsFullAccess"
}

resource "aws_iam_group" "analysts" {
  name = "analysts"
}

resource "aws_iam_group_policy_attachment" "analytics" {
  group      = tolist(["kinesis:*"])
  policy_arn = data.aws_iam_policy.analytics.arn
}
