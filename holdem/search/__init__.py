"""Real-time search: ranges, subgame construction, leaf values, the vectorised subgame solver, the agent.

The solver's two threads (``--search-workers 2``) meet twice a pass; numba runs them on OpenMP, whose
default wait policy spins. On a shared, oversubscribed machine a spinning thread burns the time slice
its partner needs: measured at load 8 on 2 cores, two threads took 32-64 ms an iteration on a flop
subgame against 9 ms for one; with passive waiting 2.4-2.8 ms. So the process asks for passive waiting
unless told otherwise (the OpenMP runtime reads it once, when numba first starts its threads).
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
