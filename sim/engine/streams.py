"""Named random streams: one per process, derived from (seed, replication, name).

There is no global random state: every draw in a run comes from a generator made here.
The name is hashed with a stable hash (not Python's salted ``hash``), so a stream gets the
same numbers in any process and on any number of workers.
"""

from __future__ import annotations

import hashlib

import numpy as np


def stream_key(name: str) -> int:
    """A stable 64-bit integer for a stream name."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little")


class Streams:
    """The random streams of one replication."""

    def __init__(self, seed: int, replication: int) -> None:
        self.seed = seed
        self.replication = replication

    def get(self, name: str) -> np.random.Generator:
        """A fresh generator for ``name``; the same name always gives the same numbers."""
        seq = np.random.SeedSequence([self.seed, self.replication, stream_key(name)])
        return np.random.Generator(np.random.PCG64(seq))


def uniform_rows(rng: np.random.Generator, n_rows: int, row_shape: tuple[int, ...]) -> np.ndarray:
    """``n_rows`` rows of uniforms from a fresh stream; row ``k`` never depends on ``n_rows``.

    A generator fills an array in order, one draw after the other, so asking for more rows
    only appends: the k-th client of a group gets the same personal variates whatever the
    scenario (common random numbers).
    """
    return rng.random((n_rows, *row_shape))


def gamma_rows(rng: np.random.Generator, n_rows: int, row_shape: tuple[int, ...],
               shape: float) -> np.ndarray:
    """Standard gamma variates in rows; like :func:`uniform_rows`, row ``k`` never depends on
    ``n_rows`` (each variate's draws follow the previous one's, whatever their number)."""
    return rng.standard_gamma(shape, (n_rows, *row_shape))
