"""Heads-up no-limit hold'em: rules, betting abstraction, buckets."""
