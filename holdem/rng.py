"""A random generator whose whole state is a uint64[4] array, so a checkpoint can save it exactly.

numba's built-in ``np.random`` state cannot be read back out of compiled code, which would make a
resumed run diverge. This is xoshiro256** (Blackman & Vigna, "Scrambled linear pseudorandom number
generators", 2018), seeded through splitmix64 as its authors recommend.
"""

from __future__ import annotations

import numpy as np
from numba import njit, uint64

_MASK = (1 << 64) - 1


def seed_state(seed: int) -> np.ndarray:
    """Four splitmix64 outputs of ``seed``: never all zero, different seeds give unrelated streams."""
    x = seed & _MASK
    out = np.empty(4, dtype=np.uint64)
    for i in range(4):
        x = (x + 0x9E3779B97F4A7C15) & _MASK
        z = x
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        out[i] = z ^ (z >> 31)
    return out


@njit(cache=True, inline="always")
def _rotl(x, k):
    return (x << uint64(k)) | (x >> uint64(64 - k))


@njit(cache=True)
def next_u64(s):
    result = _rotl(s[1] * uint64(5), 7) * uint64(9)
    t = s[1] << uint64(17)
    s[2] ^= s[0]
    s[3] ^= s[1]
    s[1] ^= s[2]
    s[0] ^= s[3]
    s[2] ^= t
    s[3] = _rotl(s[3], 45)
    return result


@njit(cache=True)
def uniform(s):
    """A double in [0, 1) from the top 53 bits."""
    return float(next_u64(s) >> uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True)
def hash_uniform(x):
    """A double in [0, 1) that depends only on the integer x (one splitmix64 step)."""
    z = uint64(x) + uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> uint64(30))) * uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> uint64(27))) * uint64(0x94D049BB133111EB)
    z = z ^ (z >> uint64(31))
    return float(z >> uint64(11)) * (1.0 / 9007199254740992.0)
