"""Write results as hive-partitioned Parquet with a manifest, atomically.

Everything goes into a temporary folder beside the destination, which is renamed into
place at the end: a failed run leaves nothing half-written, and an existing destination
is never overwritten.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from sim.errors import InputError
from sim.model import to_jsonable
from sim.runner import Results

PACKAGES = ("opvang-sim", "simpy", "numpy", "scipy", "pandas", "pyarrow")


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


@contextmanager
def staged_folder(out: Path) -> Iterator[Path]:
    """A temporary folder beside ``out`` that replaces ``out`` when the block succeeds.

    Nothing half-written is ever at ``out``: on an error the temporary folder is removed and
    ``out`` is left as it was. Whether ``out`` may be replaced is the caller's check.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        yield tmp
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
            os.replace(out, old / out.name)
            os.replace(tmp, out)
            shutil.rmtree(old)
        else:
            os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


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


def package_versions() -> dict[str, str]:
    """Installed versions of the packages a result depends on."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def git_commit() -> str:
    """The commit of the source tree, with ``+dirty`` if it has uncommitted changes."""
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True,
                                text=True, check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=here, capture_output=True, text=True, check=True,
                               timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")
