# Every kind of IAM entity a typical Terraform configuration manages, against
# Portcullis: users, a group with a membership, a customer managed policy, a
# role with a trust policy and attached policies, an instance profile and an
# access key. Driven by tests/clients/test_terraform.py; the variables come
# from the test (TF_VAR_*).

terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}

variable "endpoint" {
  description = "The Portcullis endpoint, http://127.0.0.1:PORT"
  type        = string
}

variable "access_key" {
  type      = string
  sensitive = true
}

variable "secret_key" {
  type      = string
  sensitive = true
}

variable "prefix" {
  description = "Prefix of every name, so that runs do not collide"
  type        = string
}

provider "aws" {
  region     = "us-east-1"
  access_key = var.access_key
  secret_key = var.secret_key

  # No instance metadata service here, and Portcullis answers the calls the
  # provider makes to learn the account (sts:GetCallerIdentity).
  skip_metadata_api_check = true
  skip_region_validation  = true

  endpoints {
    iam = var.endpoint
    sts = var.endpoint
  }
}

data "aws_caller_identity" "current" {}

resource "aws_iam_user" "alice" {
  name = "${var.prefix}-alice"
  path = "/engineering/"
  tags = {
    team = "platform"
  }
}

resource "aws_iam_user" "bob" {
  name = "${var.prefix}-bob"
}

resource "aws_iam_group" "developers" {
  name = "${var.prefix}-developers"
  path = "/engineering/"
}

resource "aws_iam_group_membership" "developers" {
  name  = "${var.prefix}-developers-membership"
  group = aws_iam_group.developers.name
  users = [aws_iam_user.alice.name, aws_iam_user.bob.name]
}

resource "aws_iam_policy" "read_logs" {
  name        = "${var.prefix}-read-logs"
  path        = "/engineering/"
  description = "Read the application's log bucket"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "ReadLogs"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:ListBucket"]
        Resource = ["arn:aws:s3:::app-logs", "arn:aws:s3:::app-logs/*"]
      }
    ]
  })
  tags = {
    team = "platform"
  }
}

resource "aws_iam_group_policy_attachment" "developers_read_logs" {
  group      = aws_iam_group.developers.name
  policy_arn = aws_iam_policy.read_logs.arn
}

resource "aws_iam_role" "app" {
  name                 = "${var.prefix}-app"
  description          = "The application's role"
  max_session_duration = 7200
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect    = "Allow"
        Principal = { Service = "ec2.amazonaws.com" }
        Action    = "sts:AssumeRole"
      },
      {
        Effect    = "Allow"
        Principal = { AWS = aws_iam_user.alice.arn }
        Action    = "sts:AssumeRole"
      }
    ]
  })
  tags = {
    app = "web"
  }
}

resource "aws_iam_role_policy_attachment" "app_read_logs" {
  role       = aws_iam_role.app.name
  policy_arn = aws_iam_policy.read_logs.arn
}

resource "aws_iam_role_policy_attachment" "app_read_only" {
  role       = aws_iam_role.app.name
  policy_arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
}

resource "aws_iam_role_policy" "app_queue" {
  name = "queue"
  role = aws_iam_role.app.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect   = "Allow"
        Action   = "sqs:SendMessage"
        Resource = "arn:aws:sqs:us-east-1:${data.aws_caller_identity.current.account_id}:jobs"
      }
    ]
  })
}

resource "aws_iam_instance_profile" "app" {
  name = "${var.prefix}-app"
  role = aws_iam_role.app.name
}

resource "aws_iam_access_key" "bob" {
  user = aws_iam_user.bob.name
}

output "account_id" {
  value = data.aws_caller_identity.current.account_id
}

output "role_arn" {
  value = aws_iam_role.app.arn
}

output "instance_profile_arn" {
  value = aws_iam_instance_profile.app.arn
}

output "access_key_id" {
  value = aws_iam_access_key.bob.id
}

output "access_key_secret" {
  value     = aws_iam_access_key.bob.secret
  sensitive = true
}
