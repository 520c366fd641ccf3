"""The on-disk layout of a sweep: one Parquet file per task and table, and a manifest.

::

    results/NAME/manifest.json
    results/NAME/<table>/scenario=<scenario>/rep-<replication>.parquet

Every file is written to a hidden temporary file beside its place and renamed into it, so a
file that exists is complete. A task is done when the files of all its tables exist.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

from sim.errors import InputError

MANIFEST = "manifest.json"
TEMPORARY_SUFFIX = ".tmp"


def task_file(out: Path, table: str, scenario: str, replication: int) -> Path:
    """Where one replication's table goes."""
    return out / table / f"scenario={scenario}" / f"rep-{replication:05d}.parquet"


def is_done(out: Path, tables: tuple[str, ...], scenario: str, replication: int) -> bool:
    """Whether every table of a task is on disk."""
    return all(task_file(out, t, scenario, replication).is_file() for t in tables)


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to a hidden temporary file, flush it to disk and rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}{TEMPORARY_SUFFIX}")
    try:
        with tmp.open("xb") as fh:  # the usual permissions, unlike mkstemp's 0600
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def remove_temporary(out: Path) -> int:
    """Remove the temporary files a killed sweep left behind; return how many."""
    leftovers = [p for p in out.rglob(f".*{TEMPORARY_SUFFIX}") if p.is_file()]
    for path in leftovers:
        path.unlink()
    return len(leftovers)


def read_manifest(out: Path) -> dict[str, Any] | None:
    """The manifest of a results folder, or None when it has none."""
    path = out / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(str(path), "", f"cannot be read as JSON ({err})") from None
    if not isinstance(data, dict):
        raise InputError(str(path), "", "expected a JSON object")
    return data


def write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    """Replace the manifest atomically."""
    write_atomic(out / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True).encode())
