# A local module whose defaults leave the stream unencrypted.

module "clickstream" {
  source = "./modules/stream"
  name   = "clickstream"
}
