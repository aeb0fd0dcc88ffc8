"""Independent, reproducible random streams: one per (seed, part of the world).

Each part draws from its own stream, so adding a column to one dataset does not shift the random
numbers of every other dataset.
"""

from __future__ import annotations

import zlib

import numpy as np


def stream(seed: int, part: str) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(part.encode())]))
