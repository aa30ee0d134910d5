# The module's own example calls it: scanned with the module, each finding is reported once,
# naming both instances.
module "streams" {
  source = "../../"

  create_consumer_user = true
  streams = {
    clicks = { shard_count = 1 }
  }
}
