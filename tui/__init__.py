"""holdem-tui: a Textual monitor, a client of the holdemd socket API only."""
