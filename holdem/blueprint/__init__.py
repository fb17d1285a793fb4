"""A trained blueprint: where it is read from, loading, lookups and translation, the strategy
explorer, export and merge."""
