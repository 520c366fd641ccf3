"""Write results as hive-partitioned Parquet with a manifest, atomically.

Everything goes into a temporary folder beside the destination, which is renamed into
place at the end: a failed run leaves nothing half-written, and an existing destination
is never overwritten.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pandas as pd

from sim.errors import InputError
from sim.modelfile import to_jsonable
from sim.provenance import git_commit, package_versions, staged_folder
from sim.runner import Results


def check_destination(out: Path) -> None:
    """Refuse a destination that already holds something (results are never overwritten)."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError(str(out), "", "already exists and is not empty; choose another --out")


def write_results(results: Results, out: Path, command: str = "") -> Path:
    """Write every table and ``manifest.json`` under ``out``."""
    check_destination(out)
    with staged_folder(out) as tmp:
        for name, table in results.tables.items():
            write_partition(table, tmp / name, results.experiment, results.scenario)
        manifest = build_manifest(results, command)
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
    return out


def write_partition(table: pd.DataFrame, root: Path, experiment: str, scenario: str,
                    name: str = "part-0.parquet") -> Path:
    """Write one hive partition file ``root/experiment=E/scenario=S/name`` (in a staged folder)."""
    folder = root / f"experiment={experiment}" / f"scenario={scenario}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    table.drop(columns=["experiment", "scenario"], errors="ignore").to_parquet(path, index=False)
    return path


def build_manifest(results: Results, command: str = "") -> dict[str, Any]:
    """Provenance of a run: resolved model and its hash, seeds, versions and git commit."""
    return {
        "experiment": results.experiment,
        "scenario": results.scenario,
        "model_file": results.model.source,
        "model_hash": results.info.get("model_hash"),
        "model": to_jsonable(results.model),
        "seed": results.seed,
        "posterior": results.info.get("posterior"),
        "replications": results.replications,
        "tables": sorted(results.tables),
        "seconds": round(results.seconds, 3),
        "written": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": command,
        "versions": package_versions(),
        "git_commit": git_commit(),
    }
