"""A seeded mutation fuzzer for the loaders and the whole scan (usage: tests/fuzz/README.md)."""
