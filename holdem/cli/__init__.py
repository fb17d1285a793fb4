"""The `holdem` command: the parser, one module per command family, the shared refusal of bad input."""
