"""One solver instance (`holdem train`): the training loop, its checkpoints and stop handling,
metrics, progress, the event stream, TensorBoard scalars, the exit codes and the pre-run estimate."""
