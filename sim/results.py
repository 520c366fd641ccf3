"""Read results back as tidy pandas DataFrames, for notebooks and summaries.

>>> import sim.results
>>> annual = sim.results.load("results/velserpoort_fewer_places", "annual")  # doctest: +SKIP

Works on a sweep's dataset and on the output of ``opvang run`` alike
(``<table>/scenario=S/rep-R.parquet``), and on older runs' ``<table>/experiment=E/scenario=S/
part-0.parquet``. A damaged file is an :class:`~sim.errors.InputError` that names it.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds

from sim.dataset import damage, read_manifest
from sim.errors import InputError

KEYS = ("experiment", "scenario", "replication", "seed")


def load(path: str | Path, table: str = "annual") -> pd.DataFrame:
    """One table with the run keys (experiment, scenario, replication, seed) as its first columns.

    Rows are ordered by scenario (in the experiment's order when a manifest says it), then
    replication, then as the replication wrote them.
    """
    root = Path(path)
    folder = root / table
    if not root.is_dir():
        raise InputError(str(root), "", "no such results folder")
    if not folder.is_dir():
        found = sorted(p.name for p in root.iterdir() if p.is_dir())
        raise InputError(str(root), table, "no such table; found: " + (", ".join(found) or "nothing"))
    keys = _partition_keys(folder)
    checked = ds.ParquetFileFormat(default_fragment_scan_options=ds.ParquetFragmentScanOptions(
        page_checksum_verification=True))
    try:
        dataset = ds.dataset(folder, format=checked, partitioning=ds.partitioning(
            pa.schema([(k, pa.string()) for k in keys]), flavor="hive"))
        frame = dataset.to_table().to_pandas()
    except (OSError, pa.ArrowException) as err:
        raise _damaged(folder, err) from None
    if frame.empty:
        raise InputError(str(folder), "", "holds no results yet")
    for key in ("experiment", "scenario"):
        if key in frame:
            frame[key] = frame[key].astype("string")
    frame = frame[[k for k in KEYS if k in frame] + [c for c in frame if c not in KEYS]]
    order = _scenario_order(root, frame)
    rank = frame["scenario"].map({s: i for i, s in enumerate(order)}).astype(int)
    frame = frame.assign(_rank=rank).sort_values(["_rank", "replication"], kind="stable")
    return frame.drop(columns="_rank").reset_index(drop=True)


def _damaged(folder: Path, err: Exception) -> InputError:
    """The error for a table that does not read back: it names the first damaged file."""
    for path in sorted(folder.rglob("*.parquet")):
        problem = damage(path)
        if problem:
            return InputError(str(path), "", f"damaged result file ({problem}); a sweep rewrites "
                              "it when run again, a run must be run again")
    return InputError(str(folder), "", f"cannot be read ({' '.join(str(err).split())})")


def _partition_keys(folder: Path) -> list[str]:
    """The hive partition keys under ``folder`` (``scenario``, or ``experiment`` and ``scenario``)."""
    keys: list[str] = []
    level = folder
    while True:
        parts = [p for p in level.iterdir() if p.is_dir() and "=" in p.name]
        if not parts:
            return keys
        keys.append(parts[0].name.split("=", 1)[0])
        level = parts[0]


def _scenario_order(root: Path, frame: pd.DataFrame) -> list[str]:
    manifest = read_manifest(root) or {}
    listed = list(manifest.get("scenarios") or {}) if manifest.get("kind") == "sweep" else []
    present = sorted(set(frame["scenario"]))
    return [s for s in listed if s in present] + [s for s in present if s not in listed]
