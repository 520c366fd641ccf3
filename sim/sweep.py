"""Run an experiment: every (scenario, replication) task, streamed to a resumable dataset.

Replication ``r`` of every scenario uses the experiment's seed and index ``r`` (common
random numbers). A task runs in a worker, which returns its tables as Parquet bytes; the
parent writes each file atomically as soon as it arrives and keeps nothing. Starting an
interrupted sweep again computes only the tasks whose files are missing; a folder written by
another definition of the experiment (another hash) is refused, never mixed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from sim.backends import make_backend
from sim.dataset import (
    MANIFEST,
    is_done,
    read_manifest,
    remove_temporary,
    task_file,
    write_atomic,
    write_manifest,
)
from sim.engine import run_replication
from sim.errors import InputError
from sim.experiment import Experiment, Task, definition, definition_hash, read_experiment, tasks
from sim.modelfile import to_jsonable
from sim.provenance import git_commit, package_versions
from sim.runner import with_keys

LAYOUT = "<table>/scenario=<scenario>/rep-<replication>.parquet"


@dataclass(frozen=True)
class TaskOutput:
    """The tables of one task as Parquet files (bytes), ready to write."""

    scenario: str
    replication: int
    files: dict[str, bytes]
    cpu_seconds: float  # CPU time of the worker on this task


@dataclass(frozen=True)
class SweepReport:
    """What a sweep did."""

    out: Path
    total: int  # tasks of the experiment
    already: int  # found on disk at the start
    computed: int  # run by this call
    seconds: float  # wall clock
    backend: str
    cpu_seconds: float  # CPU time of the workers on the computed tasks


class SweepStoppedError(Exception):
    """A sweep stopped early; the tasks already written stay, and a rerun resumes."""


def run_task(task: Task) -> TaskOutput:
    """Simulate one replication and encode its tables (run keys first; the scenario is the folder)."""
    started = time.process_time()
    rep = run_replication(task.model, task.seed, task.replication, events="events" in task.tables,
                          daily="daily" in task.tables)
    files = {}
    for name in task.tables:
        table = getattr(rep, name)
        keyed = with_keys(table, task.experiment, task.scenario, task.replication, task.seed)
        buffer = io.BytesIO()
        keyed.drop(columns="scenario").to_parquet(buffer, index=False)
        files[name] = buffer.getvalue()
    return TaskOutput(task.scenario, task.replication, files, time.process_time() - started)


def run_experiment(path: str | Path, out: str | Path | None = None, *, workers: int | None = None,
                   scheduler: str | None = None, progress: bool = True,
                   replications: int | None = None) -> SweepReport:
    """Read an experiment file and sweep it (Python entry point of ``opvang sweep``).

    ``replications`` replaces the file's number (a small run for a quick check, such as the
    notebooks' tests); it is part of the definition, so such a run needs its own ``out``.
    """
    exp = read_experiment(path)
    if replications is not None:
        if replications < 1:
            raise InputError(str(path), "replications", f"expected an integer >= 1, got {replications}")
        exp = dataclasses.replace(exp, replications=replications)
    return sweep(exp, Path(out) if out is not None else None, workers=workers,
                 scheduler=scheduler, progress=progress)


def sweep(exp: Experiment, out: Path | None = None, *, workers: int | None = None,
          scheduler: str | None = None, progress: bool = True, command: str = "") -> SweepReport:
    """Compute every missing task of ``exp`` into ``out`` (default ``results/NAME``)."""
    out = out if out is not None else Path("results") / exp.name
    previous = check_out(out, exp)
    started = time.perf_counter()
    with make_backend(workers, scheduler) as backend:  # connect before writing anything
        out.mkdir(parents=True, exist_ok=True)
        remove_temporary(out)
        done = {(s, r) for r in range(exp.replications) for s in exp.scenarios
                if is_done(out, exp.tables, s, r)}
        total = exp.replications * len(exp.scenarios)
        session = _session(backend.description, command)
        manifest = new_manifest(exp, previous, session)
        _warn_if_code_changed(manifest, session)
        write_manifest(out, manifest)
        computed, cpu_seconds = 0, 0.0
        bar = tqdm(total=total, initial=len(done), unit="task", desc=exp.name, disable=not progress)
        try:
            for result in backend.map(run_task, tasks(exp, skip=done)):
                for table, data in result.files.items():
                    path = task_file(out, table, result.scenario, result.replication)
                    if not path.exists():  # a task cut short may have written some tables
                        write_atomic(path, data)
                computed += 1
                cpu_seconds += result.cpu_seconds
                bar.update()
        except BaseException as err:
            _finish(out, manifest, session, computed, "interrupted")
            written = len(done) + computed
            cause = "interrupted" if isinstance(err, KeyboardInterrupt) else f"stopped by an error ({err!r})"
            raise SweepStoppedError(f"{exp.name} {cause}: {written} of {total} tasks are in {out}; "
                                    "run the same command again to compute the rest") from err
        finally:
            bar.close()
        _finish(out, manifest, session, computed, "complete")
    return SweepReport(out, total, len(done), computed, time.perf_counter() - started,
                       backend.description, cpu_seconds)


def check_out(out: Path, exp: Experiment) -> dict[str, Any] | None:
    """Refuse a folder that is not this experiment's; return its manifest when resuming."""
    if out.exists() and not out.is_dir():
        raise InputError(str(out), "", "exists and is not a folder; choose another --out")
    if not out.exists() or not any(out.iterdir()):
        return None
    manifest = read_manifest(out)
    if manifest is None or manifest.get("kind") != "sweep":
        raise InputError(str(out), "", "already exists, is not empty and holds no sweep manifest; "
                         "choose another --out")
    old, new = manifest.get("definition_hash"), definition_hash(exp)
    if old != new:
        changed = _changes(manifest.get("definition") or {}, definition(exp))
        raise InputError(str(out / MANIFEST), "definition_hash",
                         f"these results come from another definition of experiment {exp.name} "
                         f"(hash {old}; {exp.file} now gives {new}; changed: {changed}). Results are "
                         f"never mixed: sweep into a new folder with --out, or move {out} away")
    return manifest


def _changes(old: dict[str, Any], new: dict[str, Any]) -> str:
    """Which parts of a definition differ, in words."""
    parts = [key for key in new if key != "scenarios" and old.get(key) != new[key]]
    before, after = old.get("scenarios") or {}, new["scenarios"]
    parts += [f"scenario {s} added" for s in after if s not in before]
    parts += [f"scenario {s} removed" for s in before if s not in after]
    parts += [f"scenario {s} changed" for s in after if s in before and before[s] != after[s]]
    return ", ".join(parts) or "the definition"


def new_manifest(exp: Experiment, previous: dict[str, Any] | None,
                 session: dict[str, Any]) -> dict[str, Any]:
    """Provenance of the dataset: resolved scenarios, hashes, seeds, and the sessions that wrote it.

    The start time, git commit and versions at the top are those of the first session.
    """
    post = exp.posterior
    draws = None
    if post is not None:
        rows = [post.draw(exp.seed, r) for r in range(exp.replications)]
        draws = {"file": post.file, "sha256": post.sha256, "columns": list(post.columns),
                 "rule": "replication r uses the row drawn by weight from stream 'posterior' of "
                         "(seed, r); scenario overrides win over the draw",
                 "draws": [{"replication": r, "row": row, "values": post.overrides(row)}
                           for r, row in enumerate(rows)]}
    first = previous or {}
    return {
        "kind": "sweep",
        "experiment": exp.name,
        "experiment_file": exp.file,
        "description": exp.description,
        "definition_hash": definition_hash(exp),
        "definition": definition(exp),
        "model_file": exp.model_file,
        "baseline": exp.baseline,
        "horizon": exp.horizon,
        "tables": list(exp.tables),
        "replications": exp.replications,
        "seeds": {"seed": exp.seed, "replications": list(range(exp.replications)),
                  "rule": "replication r of every scenario uses seed and replication index r "
                          "(common random numbers)"},
        "scenarios": {name: {"origin": s.origin, "overrides": s.overrides, "model_hash": s.hash,
                             "model": to_jsonable(s.model)} for name, s in exp.scenarios.items()},
        "posterior": draws,
        "layout": LAYOUT,
        "tasks": exp.replications * len(exp.scenarios),
        "status": "running",
        "started": first.get("started") or session["started"],
        "ended": None,
        "git_commit": first.get("git_commit") or session["git_commit"],
        "versions": first.get("versions") or session["versions"],
        "sessions": [*(first.get("sessions") or []), session],
    }


def _session(backend: str, command: str) -> dict[str, Any]:
    """The manifest's record of one call of :func:`sweep`."""
    return {"started": _now(), "ended": None, "status": "running", "computed": 0,
            "backend": backend, "command": command, "git_commit": git_commit(),
            "versions": package_versions()}


def _finish(out: Path, manifest: dict[str, Any], session: dict[str, Any], computed: int,
            status: str) -> None:
    session.update(ended=_now(), status=status, computed=computed)
    manifest["status"] = status
    manifest["ended"] = session["ended"] if status == "complete" else None
    write_manifest(out, manifest)


def _warn_if_code_changed(manifest: dict[str, Any], session: dict[str, Any]) -> None:
    """Resuming with other code is allowed, but said out loud (the manifest keeps both)."""
    for key in ("git_commit", "versions"):
        if manifest[key] != session[key]:
            print(f"warning: this sweep was started with another {key.replace('_', ' ')} "
                  f"({manifest[key]}); now {session[key]}. Both are recorded in the manifest's "
                  "sessions", file=sys.stderr)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")

