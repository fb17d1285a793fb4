"""Widgets of holdem-tui, one per module, each with its CSS beside it (`<name>.tcss`)."""
