"""What the daemon persists: the control state (SQLite), results (metric history, ladders,
estimates), and the rebuild of both from the run folders."""
