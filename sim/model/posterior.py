"""Parameter draws from a calibration posterior, as overrides of model keys.

A posterior file is a Parquet table with one column per dotted model key and a ``weight``
column. Replication ``r`` of an experiment gets row ``draw(seed, r)``: a weighted draw from
the stream ``posterior`` of (seed, r), so the same replication of every scenario gets the
same parameters (common random numbers) and a draw never depends on the number of
replications or of workers.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.engine.streams import Streams
from sim.input.errors import InputError, suggestion
from sim.model.files import from_mapping, with_overrides
from sim.model.root import Model

WEIGHT = "weight"


@dataclass(frozen=True)
class Posterior:
    """Weighted parameter sets; ``rows[i]`` holds the values of ``columns`` for draw ``i``."""

    file: str
    sha256: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    weights: tuple[float, ...]

    def draw(self, seed: int, replication: int) -> int:
        """The row used by ``replication``: deterministic in (seed, replication)."""
        p = np.array(self.weights) / math.fsum(self.weights)
        return int(Streams(seed, replication).get("posterior").choice(len(p), p=p))

    def overrides(self, row: int) -> dict[str, Any]:
        """The dotted-key overrides of one row."""
        return dict(zip(self.columns, self.rows[row], strict=True))


def apply_draw(base: Mapping[str, Any], file: str, draw: Mapping[str, Any],
               overrides: Mapping[str, Any] | None = None) -> Model:
    """The model of one replication: ``base`` with a parameter draw, then ``overrides``.

    The one place where a draw (a posterior row, or a calibration's proposal) meets a model:
    ``opvang run --posterior``, experiments and calibration all build their models here. A
    scenario's ``overrides`` (and a horizon) win over the draw. Errors name ``file``.
    """
    return from_mapping(with_overrides(base, {**draw, **(overrides or {})}, file), file)


def check_draws(post: Posterior, base: Mapping[str, Any], file: str, seed: int, replications: int,
                scenarios: Mapping[str, Mapping[str, Any]]) -> None:
    """Refuse a posterior before anything runs: its columns must be keys of the model, and
    every row that replications ``0..replications-1`` draw must give a valid model with the
    overrides of each scenario (errors name the posterior file and the row)."""
    for i, column in enumerate(post.columns):
        try:
            with_overrides(base, {column: post.rows[0][i]}, post.file, add_entries=False)
        except InputError as err:
            raise InputError(post.file, column, "a column that is not a key of the model "
                             f"(expected dotted model keys and 'weight'; used by {file})"
                             f"{suggestion(err.expected)}") from None
    for row in sorted({post.draw(seed, r) for r in range(replications)}):
        for name, overrides in scenarios.items():
            try:
                apply_draw(base, file, post.overrides(row), overrides)
            except InputError as err:
                raise InputError(post.file, f"row {row}", f"with scenario {name}: "
                                 f"{err.key}: {err.expected}") from None


def read_posterior(path: Path) -> Posterior:
    """Read and check a posterior file (columns: dotted model keys and ``weight``)."""
    file = str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(file, "", "file not found") from None
    except OSError as err:
        raise InputError(file, "", f"cannot be read ({err.strerror})") from None
    try:
        table = pd.read_parquet(path)
    except Exception as err:  # pyarrow raises several types for a file that is not Parquet
        raise InputError(file, "", f"not a Parquet table ({err})") from None
    if WEIGHT not in table.columns:
        raise InputError(file, WEIGHT, "missing column; expected one column per model key and 'weight'")
    if len(table) == 0:
        raise InputError(file, "", "expected at least one parameter draw")
    columns = tuple(str(c) for c in table.columns if c != WEIGHT)
    if not columns:
        raise InputError(file, "", "expected at least one column of a model key besides 'weight'")
    weights = pd.to_numeric(table[WEIGHT], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(weights) | (weights < 0)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputError(file, f"{WEIGHT} (row {row})",
                         f"expected a finite number >= 0, got {table[WEIGHT].iloc[row]!r}")
    if not weights.sum() > 0:
        raise InputError(file, WEIGHT, "expected at least one weight > 0")
    rows = tuple(tuple(_plain(table[c].iloc[i], file, c, i) for c in columns)
                 for i in range(len(table)))
    return Posterior(file, hashlib.sha256(data).hexdigest()[:16], columns, rows,
                     tuple(float(w) for w in weights))


def _plain(value: Any, file: str, column: str, row: int) -> Any:
    """A numpy scalar as the Python value a TOML file would give."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        raise InputError(file, f"{column} (row {row})", f"expected a value, got {value!r}")
    return value
