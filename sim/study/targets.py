"""Observed targets (``calibration/targets.csv``): one row per year, metric and group."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.input.errors import InputError

COLUMNS = ("year", "metric", "group", "value", "unit", "source", "note")


def load_targets(path: str | Path) -> pd.DataFrame:
    """Read and check the targets file."""
    path = Path(path)
    try:
        table = pd.read_csv(path, dtype={"metric": str, "group": str, "unit": str})
    except FileNotFoundError:
        raise InputError(str(path), "", "file not found") from None
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise InputError(str(path), "", f"cannot be read as CSV ({err})") from None
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise InputError(str(path), missing[0], f"missing column; expected {', '.join(COLUMNS)}")
    for column in ("year", "value"):
        numbers = pd.to_numeric(table[column], errors="coerce")
        bad = numbers.isna()
        if bad.any():
            first = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(str(path), f"line {first + 2}, column {column}",  # header: line 1
                             f"expected a number, got {table[column].iloc[first]!r}")
        table[column] = numbers
    table["year"] = table["year"].astype(int)
    return table
