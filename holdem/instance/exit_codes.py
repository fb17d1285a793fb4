"""How a ``holdem`` process ends, the contract the supervisor reads (docs/architecture.md, "The instance").

0: done (or stopped cleanly after a checkpoint); 1: a crash, worth a restart from the last checkpoint;
2: bad input, never worth retrying; 3: busy (another process holds the instance folder).
"""

EXIT_OK, EXIT_CRASH, EXIT_BAD_INPUT, EXIT_BUSY = 0, 1, 2, 3
