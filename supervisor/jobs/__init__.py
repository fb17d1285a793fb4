"""What the daemon runs: a run's phases and folder, each instance's child process and restart
policy, and the one-shot holdem commands (evaluation, estimates, strategy) it starts on a run's
behalf."""
