"""Real-time search: ranges, subgame construction, leaf values, the vectorised subgame solver, the agent.

The solver's two threads (``--search-workers 2``) meet three times a pass; numba runs them on OpenMP
(libgomp). How a waiting thread waits decides what a second worker is worth:
* spinning without end (``OMP_WAIT_POLICY=ACTIVE``; libgomp's default spins 300,000 times) burns the
  time slice its partner needs on a loaded machine: at load 8 on 2 cores, two threads took 32-64 ms
  an iteration on a flop subgame against 9 ms for one;
* sleeping at once (``PASSIVE``) pays a wake-up at every meeting: on a quiet machine (2026-12-04, the
  same 150 spots searched with 1 and 2 threads at 100 ms) two threads did x1.55 the iterations of one;
* a short spin, then sleep (``GOMP_SPINCOUNT=20000``): x2.41 on the same spots (x2.42 with 200,000,
  x2.46 spinning without end), and a bounded waste under load.
So the process asks for the short spin unless the wait policy or the spin count is set (the OpenMP
runtime reads them once, when numba first starts its threads).
"""

import os

if "OMP_WAIT_POLICY" not in os.environ:
    os.environ.setdefault("GOMP_SPINCOUNT", "20000")
