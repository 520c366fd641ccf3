"""Read results back as tidy pandas DataFrames, for notebooks and summaries.

>>> import sim.study.results
>>> annual = sim.study.results.load("results/velserpoort_fewer_places", "annual")  # doctest: +SKIP

Works on a sweep's dataset and on the output of ``opvang run`` alike
(``<table>/scenario=S/rep-R.parquet``), and on older runs' ``<table>/experiment=E/scenario=S/
part-0.parquet``. A damaged file is an :class:`~sim.input.errors.InputError` that names it:
one that does not read back, or whose bytes differ from ``checksums.sha256``, or one the
list names that is missing.

A sweep's table also gets a column per overridden model key (named by the dotted key, after
the run keys, in alphabetical order): the value the row's scenario and replication ran with.
That is the scenario's override; for a scenario that does not override the key, the
replication's posterior draw when the key is a posterior column, else the value in the
scenario's resolved model (missing where the model has no such entry). A grid or a sampled
design thus reads as a table of inputs and outputs:
``annual.groupby("facilities.velserpoort.schedule.2021-01-01.places")``.

The scenario column is a categorical whose categories are the scenarios read. ``scenarios=``
reads only those (in that order, and only those are categories: a seaborn plot shows just
them); a frame filtered by hand keeps every category until
``frame["scenario"] = frame["scenario"].cat.remove_unused_categories()``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds

from sim.batch.dataset import CHECKSUMS, damage, read_manifest, verify_checksums
from sim.input.errors import InputError
from sim.model.files import split_dotted

KEYS = ("experiment", "scenario", "replication", "seed")


def load(path: str | Path, table: str = "annual", overrides: bool = True,
         scenarios: Sequence[str] | None = None, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """One table with the run keys (experiment, scenario, replication, seed) as its first columns,
    then (``overrides``) a column per model key that a sweep's scenarios override.

    Experiment and scenario are categoricals (a sweep's table repeats a few names over
    millions of rows); the scenarios' categories are in the experiment's order when a manifest
    says it, else alphabetical (a damaged manifest is an error only with ``overrides``), and
    rows are ordered by scenario, then replication, then as the replication wrote them.
    ``scenarios``: read only these (an unknown name is an error), and they alone are the
    categories, in this order. ``columns``: read only these columns of the table besides the
    run keys (a daily table of a large sweep is big).
    """
    root = Path(path)
    folder = root / table
    if not root.is_dir():
        raise InputError(str(root), "", "no such results folder")
    if not folder.is_dir():
        found = sorted(p.name for p in root.iterdir() if p.is_dir())
        raise InputError(str(root), table, "no such table; found: " + (", ".join(found) or "nothing"))
    _verify(root, table)
    keys = _partition_keys(folder)
    wanted = None if scenarios is None else _known_scenarios(folder, keys, list(scenarios))
    checked = ds.ParquetFileFormat(default_fragment_scan_options=ds.ParquetFragmentScanOptions(
        page_checksum_verification=True))
    try:
        dataset = ds.dataset(folder, format=checked, partitioning=ds.partitioning(
            pa.schema([(k, pa.string()) for k in keys]), flavor="hive"))
        names = None if columns is None else [c for c in dataset.schema.names
                                              if c in KEYS or c in columns]
        where = None if wanted is None else ds.field("scenario").isin(wanted)
        frame = dataset.to_table(columns=names, filter=where).to_pandas()
    except (OSError, pa.ArrowException) as err:
        raise _damaged(folder, err) from None
    if frame.empty:
        raise InputError(str(folder), "", "holds no results yet")
    frame = frame[[k for k in KEYS if k in frame] + [c for c in frame if c not in KEYS]]
    manifest = _manifest(root, needed=overrides)
    sweep = manifest if manifest.get("kind") in ("sweep", "optimise") else {}
    order = wanted if wanted is not None else _scenario_order(sweep, frame)
    frame["scenario"] = pd.Categorical(frame["scenario"], categories=order)
    if "experiment" in frame:
        frame["experiment"] = frame["experiment"].astype("category")
    frame = frame.sort_values(["scenario", "replication"], kind="stable").reset_index(drop=True)
    return _with_overrides(frame, sweep) if overrides and sweep else frame


def _manifest(root: Path, needed: bool) -> dict[str, Any]:
    """The folder's manifest; a damaged one is an error only where it is ``needed`` (for the
    override columns), else the table is read without it (scenarios in alphabetical order)."""
    try:
        return read_manifest(root) or {}
    except InputError:
        if needed:
            raise
        return {}


def override_values(manifest: Mapping[str, Any], pairs: pd.DataFrame) -> pd.DataFrame:
    """The value of each overridden key for each (scenario, replication) of ``pairs``.

    The scenario's override; else the replication's posterior draw of that key; else the
    key's value in the scenario's resolved model (missing when it has no such entry).
    """
    scenarios = manifest.get("scenarios") or {}
    overrides = {name: s.get("overrides") or {} for name, s in scenarios.items()}
    keys = sorted({k for own in overrides.values() for k in own})
    draws = {d["replication"]: d["values"] for d in (manifest.get("posterior") or {}).get("draws") or []}
    drawn = {k for values in draws.values() for k in values}
    out = pairs[["scenario", "replication"]].reset_index(drop=True)
    scenario = out["scenario"].astype(object)  # mapped to values that need not be hashable
    for key in keys:
        parts = split_dotted(key)
        own = {name: overrides[name][key] if key in overrides[name]
               else _lookup(s.get("model"), parts) for name, s in scenarios.items()}
        column = scenario.map(own).astype(object)
        if key in drawn:  # scenarios that do not override it run the replication's draw
            free = ~scenario.map(lambda s, k=key: k in overrides.get(s, {}))
            column[free] = out.loc[free, "replication"].map(lambda r, k=key: draws.get(int(r), {}).get(k))
        out[key] = column.where(column.notna(), None).infer_objects()
    return out


def _with_overrides(frame: pd.DataFrame, manifest: Mapping[str, Any]) -> pd.DataFrame:
    """``frame`` with the override columns after the run keys, rows in the same order."""
    pairs = frame[["scenario", "replication"]].drop_duplicates()
    values = override_values(manifest, pairs)
    added = [c for c in values if c not in ("scenario", "replication")]
    if not added:
        return frame
    merged = frame.merge(values, on=["scenario", "replication"], how="left", sort=False)
    keys = [k for k in KEYS if k in merged]
    return merged[keys + added + [c for c in frame if c not in keys]]


def _lookup(model: Any, parts: list[str]) -> Any:
    """The scalar at a dotted path of a resolved model (JSON), or None."""
    node = model
    for part in parts:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return None if isinstance(node, dict | list) else node


def unverified(root: str | Path) -> str:
    """A warning when a results folder has no checksum list to check its files against."""
    if (Path(root) / CHECKSUMS).is_file():
        return ""
    return (f"warning: {Path(root) / CHECKSUMS} is missing: the result files cannot be checked "
            "for damage (a sweep writes it again when its command runs again)")


def _verify(root: Path, table: str) -> None:
    """Refuse a table whose files differ from their checksums, or are missing."""
    problems = verify_checksums(root, table)
    if problems:
        path, problem = problems[0]
        more = f"; {len(problems) - 1} more file(s) of {table} too" if len(problems) > 1 else ""
        raise InputError(str(path), "", f"damaged result file ({problem}{more}); a sweep rewrites "
                         "it when run again, a run must be run again")


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


def _known_scenarios(folder: Path, keys: list[str], wanted: list[str]) -> list[str]:
    """``wanted``, each checked against the scenario folders of the table."""
    if "scenario" not in keys:
        raise InputError(str(folder), "scenario", "no scenario partitions to choose from")
    depth = keys.index("scenario") + 1
    found = {p.name.split("=", 1)[1] for p in folder.glob("/".join(["*"] * depth))
             if p.is_dir() and p.name.startswith("scenario=")}
    unknown = [s for s in wanted if s not in found]
    if unknown:
        raise InputError(str(folder), unknown[0], "no such scenario; found: " + ", ".join(sorted(found)))
    return list(dict.fromkeys(wanted))


def _scenario_order(manifest: Mapping[str, Any], frame: pd.DataFrame) -> list[str]:
    listed = list(manifest.get("scenarios") or {})
    present = sorted(set(frame["scenario"]))
    return [s for s in listed if s in present] + [s for s in present if s not in listed]
