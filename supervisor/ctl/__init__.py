"""holdemctl: the command-line client, over the socket protocol only."""
