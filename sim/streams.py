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


def uniform_rows(rng: np.random.Generator, n_rows: int, row_shape: tuple[int, ...],
                 chunk: int = 512) -> np.ndarray:
    """Draw ``n_rows`` rows of uniforms so that row ``k`` never depends on ``n_rows``.

    Rows come in fixed-size chunks, so asking for more rows only appends: the k-th client
    of a group gets the same personal variates whatever the scenario (common random numbers).
    """
    n_chunks = max(1, -(-n_rows // chunk))
    block = rng.random((n_chunks * chunk, *row_shape))
    return block[:n_rows]


def gamma_rows(rng: np.random.Generator, n_rows: int, row_shape: tuple[int, ...],
               shape: float, chunk: int = 512) -> np.ndarray:
    """Standard gamma variates in rows, chunked like :func:`uniform_rows`."""
    n_chunks = max(1, -(-n_rows // chunk))
    return rng.standard_gamma(shape, (n_chunks * chunk, *row_shape))[:n_rows]
