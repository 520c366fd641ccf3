"""Run an experiment: every (scenario, replication) task, streamed to a resumable dataset.

Replication ``r`` of every scenario uses the experiment's seed and index ``r`` (common
random numbers). A task runs in a worker, which returns its tables as Parquet bytes; the
parent writes each file atomically as soon as it arrives and keeps nothing. One process at a
time may write a folder (a claim). Starting an interrupted or killed sweep again checks the
files already there (a damaged one is removed and computed again) and computes only the
missing tasks; a folder written by another definition of the experiment (another hash) is
refused, never mixed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from sim.batch.backends import Backend, make_backend
from sim.batch.dataset import (
    CHECKSUMS,
    LAYOUT,
    MANIFEST,
    damage,
    is_temporary,
    read_checksums,
    read_manifest,
    record_checksum,
    remove_temporary,
    sha256,
    task_file,
    tidy_checksums,
    write_atomic,
    write_manifest,
)
from sim.batch.folders import check_writable, claim, os_error_line
from sim.batch.provenance import git_commit, package_versions
from sim.batch.tasks import Task, TaskOutput, run_task
from sim.input.errors import InputError
from sim.input.limits import REPLICATIONS_MAX, out_of_range
from sim.model.files import to_jsonable
from sim.study.experiment import Experiment, definition, definition_hash, read_experiment, tasks
from sim.study.precision import Precision, goal_values, halfwidths, reached


@dataclass(frozen=True)
class SweepReport:
    """What a sweep did."""

    out: Path
    total: int  # tasks of the experiment
    already: int  # found on disk, whole, at the start
    computed: int  # run by this call
    seconds: float  # wall clock
    backend: str
    cpu_seconds: float  # CPU time of the workers on the computed tasks
    damaged: int = 0  # files found damaged at the start, removed and computed again
    stopped_early: dict[str, Any] | None = None  # with a precision: when and why it stopped


class SweepStoppedError(Exception):
    """A sweep stopped early; the tasks already written stay, and a rerun resumes."""


def run_experiment(path: str | Path, out: str | Path | None = None, *, workers: int | None = None,
                   scheduler: str | None = None, progress: bool = True,
                   replications: int | None = None, precision: Precision | None = None) -> SweepReport:
    """Read an experiment file and sweep it (Python entry point of ``opvang sweep``).

    ``replications`` replaces the file's number (a small run for a quick check, such as the
    notebooks' tests); it is part of the definition, so such a run needs its own ``out``.
    """
    exp = read_experiment(path)
    if replications is not None:
        problem = out_of_range(replications, 1, REPLICATIONS_MAX)
        if problem:
            raise InputError(str(path), "replications", problem)
        exp = dataclasses.replace(exp, replications=replications)
    return sweep(exp, Path(out) if out is not None else None, workers=workers,
                 scheduler=scheduler, progress=progress, precision=precision)


def sweep(exp: Experiment, out: Path | None = None, *, workers: int | None = None,
          scheduler: str | None = None, progress: bool = True, command: str = "",
          precision: Precision | None = None,
          on_task: Callable[[int, int], None] | None = None) -> SweepReport:
    """Compute every missing task of ``exp`` into ``out`` (default ``results/NAME``); with a
    ``precision``, in batches of replications until it is reached (:mod:`sim.study.precision`).

    With ``progress``, the pace of the first tasks gives an estimate of the whole, printed
    before the progress bar starts. ``on_task(done, total)`` is called after each task that is
    written (and once at the start), for a caller's own progress display.
    """
    out = out if out is not None else Path("results") / exp.name
    if precision is not None and "annual" not in exp.tables:
        raise InputError("--precision", "", f"needs the annual table; {exp.file} writes "
                         f"{', '.join(exp.tables)}")
    check_writable(out)
    check_out(out, exp)  # refuse early; checked again under the claim
    started = time.perf_counter()
    with make_backend(workers, scheduler) as backend, claim(out):  # connect before writing anything
        previous = check_out(out, exp, announce=True)
        out.mkdir(parents=True, exist_ok=True)
        remove_temporary(out)
        done, damaged = scan(out, exp)
        session = new_session(backend.description, command, damaged)
        if precision is not None:
            session["precision"] = precision.record()
        manifest = new_manifest(exp, previous, session)
        manifest.pop("stopped_early", None)
        _warn_if_code_changed(manifest, session)
        write_manifest(out, manifest)  # first: a folder with a manifest is a sweep's, resumable
        tidy_checksums(out)  # without the lines of the damaged files just removed
        run = _Run(exp, out, backend, done, progress, on_task or _nothing)
        try:
            stopped = run.all() if precision is None else run.until(precision)
        except BaseException as err:
            stop = _stopped(exp, out, manifest, session, run, err)
            if stop is err:
                raise
            raise stop from err
        finally:
            run.pace.close()
        if stopped is not None:
            manifest["stopped_early"] = stopped
        _finish(out, manifest, session, run.computed, "complete" if stopped is None else "stopped_early")
    return SweepReport(out, exp.replications * len(exp.scenarios), run.already, run.computed,
                       time.perf_counter() - started, backend.description, run.cpu_seconds,
                       len(damaged), stopped)


def _stopped(exp: Experiment, out: Path, manifest: dict[str, Any], session: dict[str, Any],
             run: _Run, err: BaseException) -> BaseException:
    """What a sweep stopped by ``err`` raises, its manifest recording the stop: the input error
    found where a task ran (exit 2), or a :class:`SweepStoppedError` that says how many tasks
    are in and what to do."""
    with contextlib.suppress(OSError):  # a full disk refuses the manifest too; a rerun mends it
        _finish(out, manifest, session, run.computed, "interrupted")
    if isinstance(err, InputError):  # bad input found where a task ran: said as such (exit 2)
        return err
    total, written = exp.replications * len(exp.scenarios), len(run.done)
    then = "run the same command again to compute the rest"
    if isinstance(err, KeyboardInterrupt):
        cause = f"interrupted: {written} of {total} tasks are in {out}; {then}"
    elif isinstance(err, OSError):
        cause = f"stopped: {written} of {total} tasks are in {out}: {os_error_line(err, then)}"
    else:
        cause = (f"stopped by an error ({type(err).__name__}: {err}): {written} of {total} "
                 f"tasks are in {out}; {then}")
    return SweepStoppedError(f"{exp.name} {cause}")


class _Run:
    """The missing tasks of a sweep, computed and written as they arrive."""

    def __init__(self, exp: Experiment, out: Path, backend: Backend, done: set[tuple[str, int]],
                 progress: bool, on_task: Callable[[int, int], None]) -> None:
        self.exp, self.out, self.backend, self.done = exp, out, backend, done
        self.already = len(done)
        self.computed, self.cpu_seconds = 0, 0.0
        self.total = exp.replications * len(exp.scenarios)
        self.pace = Pace(exp.name, len(done), self.total, getattr(backend, "workers", 1), progress)
        self.on_task = on_task
        on_task(len(done), self.total)

    def all(self) -> dict[str, Any] | None:
        """Every missing task (it never stops early)."""
        for _ in self._results(tasks(self.exp, skip=self.done)):
            pass
        return None

    def until(self, precision: Precision) -> dict[str, Any] | None:
        """Batch by batch until the precision is reached; what the manifest records of the stop."""
        exp = self.exp
        simulation = exp.scenarios[exp.baseline].model.simulation
        years = precision.years or (simulation.start.year, simulation.end_year)
        statistic = functools.partial(goal_values, goals=precision.goals, years=years)
        values: dict[tuple[str, int], list[float]] = {}
        for start in range(0, exp.replications, precision.batch):
            reps = range(start, min(start + precision.batch, exp.replications))
            todo = (dataclasses.replace(t, statistic=statistic)
                    for t in tasks(exp, skip=self.done, replications=reps))
            for result in self._results(todo):
                values[(result.scenario, result.replication)] = result.statistic
            n = reps.stop
            if n < 2 or n >= exp.replications:
                continue
            self._read_back(values, n, statistic)
            widths = halfwidths(values, list(exp.scenarios), exp.baseline, n, precision.goals)
            if reached(widths, precision.goals):
                return {"after_replications": n, "of": exp.replications,
                        "reason": "every paired difference against the baseline has a 95 % half-width "
                                  "at most the one asked for", "precision": precision.record(),
                        "halfwidths": widths}
        return None

    def _read_back(self, values: dict[tuple[str, int], list[float]], n: int,
                   statistic: functools.partial[list[float]]) -> None:
        """The statistic of tasks done before this session, from their files."""
        for r in range(n):
            for s in self.exp.scenarios:
                if (s, r) not in values:
                    values[(s, r)] = statistic(pd.read_parquet(task_file(self.out, "annual", s, r)))

    def _results(self, todo: Iterator[Task]) -> Iterator[TaskOutput]:
        for result in self.backend.map(run_task, todo):
            for table, data in result.files.items():
                path = task_file(self.out, table, result.scenario, result.replication)
                if not path.exists():  # a task cut short may have written some tables
                    write_atomic(path, data)
                    record_checksum(self.out, path, data)
            self.done.add((result.scenario, result.replication))
            self.computed += 1
            self.cpu_seconds += result.cpu_seconds
            self.pace.task(result.cpu_seconds)
            self.on_task(len(self.done), self.total)
            yield result


def _nothing(done: int, total: int) -> None:
    """No progress display of the caller's own."""


class Pace:
    """The estimate of a sweep's time, printed once the first tasks have shown their pace (one
    more than there are workers: the time between the first and the last of them is the pace
    of the whole, start-up left out), then the progress bar."""

    def __init__(self, name: str, done: int, total: int, workers: int, show: bool) -> None:
        self.name, self.done, self.total, self.workers, self.show = name, done, total, workers, show
        self.needed = min(total - done, workers + 1)
        self.started = time.perf_counter()
        self.times: list[float] = []
        self.bar: Any = None
        if show and total > done:
            each = "1 worker" if workers == 1 else f"{workers} workers"
            print(f"{name}: {total - done} tasks to compute on {each}; an estimate follows the first "
                  f"{self.needed}", file=sys.stderr, flush=True)

    def task(self, cpu_seconds: float) -> None:
        """One more task written."""
        self.times.append(time.perf_counter())
        if self.bar is None and len(self.times) >= self.needed:
            if self.show:
                print(estimate(self.times, self.started, self.total - self.done, self.workers,
                               cpu_seconds), file=sys.stderr, flush=True)
            self.bar = tqdm(total=self.total, initial=self.done + len(self.times) - 1, unit="task",
                            desc=self.name, disable=not self.show)
        if self.bar is not None:
            self.bar.update()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def estimate(times: list[float], started: float, tasks: int, workers: int, cpu: float) -> str:
    """The time ``tasks`` take at the pace between the first and last of ``times`` (the moments
    the first tasks were written), or at the first task's ``cpu`` seconds, ``workers`` at a time."""
    if len(times) >= 2:
        rate = (len(times) - 1) / max(times[-1] - times[0], 1e-9)
        seconds = times[-1] - started + (tasks - len(times)) / rate
        basis = f"from the pace of the first {len(times)} tasks"
    else:
        seconds = cpu * tasks / max(1, workers)
        basis = f"from the first task's {cpu:.2f} s of CPU"
    if seconds < 90:
        about = f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"
    elif seconds < 5400:
        about = f"{seconds / 60:.0f} min"
    else:
        about = f"{seconds / 3600:.1f} h"
    return f"estimate: about {about} for {tasks} tasks, {basis}; the bar corrects it as tasks finish"


def scan(out: Path, exp: Experiment) -> tuple[set[tuple[str, int]], list[str]]:
    """The tasks whose files are all on disk and whole, and the damaged files (removed)."""
    pairs = ((scenario, r) for r in range(exp.replications) for scenario in exp.scenarios)
    return scan_pairs(out, pairs, exp.tables, exp.seed)


def scan_pairs(out: Path, pairs: Iterable[tuple[str, int]], tables: tuple[str, ...],
               seed: int) -> tuple[set[tuple[str, int]], list[str]]:
    """:func:`scan` over given (scenario, replication) pairs (a search's candidates)."""
    sums = read_checksums(out)
    done: set[tuple[str, int]] = set()
    damaged: list[str] = []
    for scenario, r in pairs:
        whole = True
        for table in tables:
            path = task_file(out, table, scenario, r)
            problem = _problem(out, path, sums, r, seed) if path.is_file() else "missing"
            if problem not in (None, "missing"):
                damaged.append(f"{path.relative_to(out)} ({problem})")
                path.unlink()
            whole = whole and problem is None
        if whole:
            done.add((scenario, r))
    if damaged:
        print(f"warning: {len(damaged)} damaged result file(s) removed and computed again: "
              f"{'; '.join(damaged[:3])}{' ...' if len(damaged) > 3 else ''}", file=sys.stderr)
    return done, damaged


def _problem(out: Path, path: Path, sums: dict[str, str], replication: int, seed: int) -> str | None:
    """What is wrong with a result file on disk, or None.

    A file with a recorded checksum must match it; one without (written just before a kill)
    must read back whole, and its checksum is recorded then.
    """
    data = path.read_bytes()
    recorded = sums.get(path.relative_to(out).as_posix())
    if recorded is not None:
        return None if sha256(data) == recorded else f"checksum differs, {len(data)} bytes"
    problem = damage(path, replication, seed)
    if problem is None:
        record_checksum(out, path, data)
    return problem


def check_out(out: Path, exp: Experiment, announce: bool = False) -> dict[str, Any] | None:
    """Refuse a folder that is not this experiment's; return its manifest when resuming.

    A damaged manifest is rebuilt (the caller writes a new one) when every data file in the
    folder is one of this experiment's tasks (:func:`foreign_file`); ``announce`` prints the
    warning that says so.
    """
    if not out.exists() or all(is_temporary(p) for p in out.iterdir()):
        return None  # new, or only what a sweep killed before its first manifest left
    try:
        manifest = read_manifest(out)
    except InputError as err:
        foreign = foreign_file(out, exp)
        if foreign:
            raise InputError(str(out / MANIFEST), "", f"damaged, and {foreign}: results are never "
                             "mixed; sweep into a new folder with --out, or move "
                             f"{out} away") from None
        if announce:
            print(f"warning: {err.file}: {err.expected.split('; ')[0]}; rebuilt from {exp.file} and "
                  "the data files, which are all of its tasks (whether they ran the scenarios' "
                  "models of today cannot be checked; earlier sessions' records are lost)",
                  file=sys.stderr)
        return None
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


def foreign_file(out: Path, exp: Experiment) -> str:
    """The first data file in ``out`` that is not one of ``exp``'s tasks (its table, scenario,
    replication, experiment name or seed), in words; "" when there is none. A file that does
    not read back is left to :func:`scan`, which removes it."""
    tasks = {task_file(out, table, scenario, r) for table in exp.tables
             for scenario in exp.scenarios for r in range(exp.replications)}
    for path in sorted(p for p in out.rglob("*.parquet") if not is_temporary(p)):
        name = path.relative_to(out).as_posix()
        if path not in tasks:
            return f"{name} is no task of experiment {exp.name} (as {exp.file} defines it now)"
        try:
            keys = pq.read_table(path, columns=["experiment", "seed"]).to_pydict()
        except (OSError, pa.ArrowException, KeyError):
            continue
        if set(map(str, keys["experiment"])) - {exp.name} or set(keys["seed"]) - {exp.seed}:
            return (f"{name} holds experiment {sorted(set(map(str, keys['experiment'])))} and seed "
                    f"{sorted(set(keys['seed']))}, not {exp.name} and {exp.seed}")
    return ""


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
    sessions = [{**old, "status": "killed"} if old.get("status") == "running" else old
                for old in first.get("sessions") or []]  # under the claim: no one runs them
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
        "checksums": f"{CHECKSUMS}: the SHA-256 of each result file, appended as it is written "
                     "and sorted by path when a session ends (sha256sum -c format); a resumed "
                     "sweep checks every file against it, and so does reading a table",
        "tasks": exp.replications * len(exp.scenarios),
        "status": "running",
        "started": first.get("started") or session["started"],
        "ended": None,
        "git_commit": first.get("git_commit") or session["git_commit"],
        "versions": first.get("versions") or session["versions"],
        "sessions": [*sessions, session],
    }


def new_session(backend: str, command: str, damaged: list[str]) -> dict[str, Any]:
    """The manifest's record of one call of :func:`sweep`."""
    return {"started": now(), "ended": None, "status": "running", "computed": 0,
            "backend": backend, "command": command, "git_commit": git_commit(),
            "versions": package_versions(), "damaged_files_rewritten": damaged}


def _finish(out: Path, manifest: dict[str, Any], session: dict[str, Any], computed: int,
            status: str) -> None:
    tidy_checksums(out)
    session.update(ended=now(), status=status, computed=computed)
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


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")

