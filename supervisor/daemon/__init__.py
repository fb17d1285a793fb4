"""holdemd itself: start-up and signals, the socket server, the state machine behind the API, sd_notify."""
