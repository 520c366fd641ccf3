"""``opvang run``'s results: each replication's tables written to disk as soon as it finishes.

The files go into a staged folder beside the destination (the layout of a sweep, see
:mod:`sim.batch.dataset`), which is renamed into place at the end: a failed run leaves nothing
half-written, and an existing destination is never overwritten. Only the small annual table
stays in memory (for the printed summary), so memory does not grow with the number of
replications.
"""

from __future__ import annotations

import datetime as dt
import gc
import io
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm import tqdm

from sim.batch.backends import make_backend
from sim.batch.dataset import LAYOUT, MANIFEST, record_checksum, task_file, tidy_checksums, write_atomic
from sim.batch.folders import staged_folder
from sim.batch.provenance import git_commit, package_versions
from sim.batch.runner import Results, replication_tasks
from sim.batch.tasks import TABLES, Variant, run_task
from sim.input.errors import InputError
from sim.model.files import model_hash, to_jsonable
from sim.model.root import Model


def check_destination(out: Path) -> None:
    """Refuse a destination that already holds something (results are never overwritten)."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError(str(out), "", "already exists and is not empty; choose another --out")


def write_run(out: Path, model: Model, replications: int, seed: int, *, events: bool = False,
              parameter_sets: Sequence[Model | Variant] | None = None, workers: int = 1,
              progress: bool = True, command: str = "",
              posterior: dict[str, Any] | None = None) -> Results:
    """Simulate the replications into ``out`` and return the run with its annual table only.

    Call it while holding :func:`sim.batch.folders.claim` on ``out``.
    """
    check_destination(out)
    names = TABLES if events else TABLES[:2]
    tasks = replication_tasks(model, replications, seed, tables=names, scenario=model.name,
                              parameter_sets=parameter_sets)
    started = time.perf_counter()
    annual: list[pd.DataFrame] = []
    n_events = 0
    with staged_folder(out) as tmp:
        with make_backend(workers) as backend:
            for output in tqdm(backend.map(run_task, tasks, ordered=True), total=replications,
                               desc=model.name, unit="rep", disable=not progress):
                for table, data in output.files.items():
                    path = task_file(tmp, table, output.scenario, output.replication)
                    write_atomic(path, data)
                    record_checksum(tmp, path, data)
                annual.append(pd.read_parquet(io.BytesIO(output.files["annual"])))
                n_events += output.n_events
                gc.collect()  # a replication's objects form cycles: free them before the next
        tidy_checksums(tmp)
        info = {"model_hash": model_hash(model), "simpy_events": n_events, "posterior": posterior,
                "tables": list(names)}
        results = Results(model, seed, replications, {"annual": pd.concat(annual, ignore_index=True)},
                          "run", model.name, time.perf_counter() - started, info)
        write_atomic(tmp / MANIFEST, json.dumps(build_manifest(results, command), indent=2,
                                                sort_keys=True).encode())
    return results


def build_manifest(results: Results, command: str = "") -> dict[str, Any]:
    """Provenance of a run: resolved model and its hash, seeds, versions and git commit."""
    return {
        "kind": "run",
        "experiment": results.experiment,
        "scenario": results.scenario,
        "model_file": results.model.source,
        "model_hash": results.info.get("model_hash"),
        "model": to_jsonable(results.model),
        "seed": results.seed,
        "posterior": results.info.get("posterior"),
        "replications": results.replications,
        "tables": results.info.get("tables", sorted(results.tables)),
        "layout": LAYOUT,
        "seconds": round(results.seconds, 3),
        "written": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": command,
        "versions": package_versions(),
        "git_commit": git_commit(),
    }
