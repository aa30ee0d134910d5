module "events" {
  source = "./modules/stream"
  name   = "events"
}

module "audit" {
  source = "./modules/stream"
  name   = "audit"
}

resource "aws_kms_key" "root" {
  description         = "root key"
  enable_key_rotation = true
}
