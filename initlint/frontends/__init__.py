"""Frontends: the only framework-aware code. Each turns its input into LayerRecords."""
