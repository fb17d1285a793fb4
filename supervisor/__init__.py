"""holdemd and holdemctl: the asyncio supervisor of `holdem train` instances. Knows no poker."""
