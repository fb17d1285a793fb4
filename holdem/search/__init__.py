"""Real-time search: ranges, subgame construction, leaf values, the vectorised subgame solver, the agent.

The solver's two threads (``--search-workers 2``) meet three times a pass, on OpenMP (libgomp). A waiting
thread spins briefly, then sleeps: spinning without end starves its partner on a loaded machine, and
sleeping at once pays a wake-up at every meeting (the measurements are in docs/decisions.md, "OpenMP
spins briefly, then sleeps"). So the process asks for the short spin unless the wait policy or the spin
count is set (the OpenMP runtime reads them once, when numba first starts its threads).
"""

import os

if "OMP_WAIT_POLICY" not in os.environ:
    os.environ.setdefault("GOMP_SPINCOUNT", "20000")
