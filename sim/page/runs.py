"""Runs on demand for the explorer page: one queue, one run at a time, each a sweep of the
page's experiment files into its own folder (``FOLDER/explore/results/<hash>``), so that a
scenario computed once is read back, never computed again.

A job is a chosen scenario against the page's baseline: the sweeps of both (those not yet
complete), then the answer (the report's numbers and figures of the two, paired replication by
replication). The worker thread only writes plain attributes of the job; the page reads them.
"""

from __future__ import annotations

import itertools
import json
import queue
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.batch.dataset import read_manifest, write_atomic
from sim.input.errors import InputError
from sim.page.levers import BASELINE, Levers, Settings, check, experiment_text, scenario_hash
from sim.study.experiment import read_experiment
from sim.study.report.data import Report, compute
from sim.study.report.figures import FIGURES, png
from sim.study.report.html import fragment
from sim.study.results import load
from sim.study.sweep import SweepStoppedError, sweep

PAGE_FIGURES = ("fan", "forest", "states", "budget")


@dataclass
class Job:
    """One request: its scenarios' experiment files and results, and how far it got."""

    id: int
    label: str
    steps: list[tuple[Path, Path]]  # (experiment file, results folder): baseline first
    state: str = "queued"  # queued, running, done, failed
    done: int = 0  # tasks finished (all steps)
    total: int = 0
    started: float = 0.0
    computed: int = 0  # tasks computed by this job's finished sweeps (0: all read back)
    fresh: int = 0  # tasks computed so far by this job
    _last: int | None = field(default=None, repr=False)  # the running sweep's last count
    error: str = ""
    report: Report | None = field(default=None, repr=False)
    html: str = field(default="", repr=False)  # the answer: summary, table and figures


class Runner:
    """The queue and its worker thread (started with the first job)."""

    def __init__(self, settings: Settings, lang: str = "en") -> None:
        self.settings, self.lang = settings, lang
        self.jobs: list[Job] = []
        self.pace: float | None = None  # seconds per task, measured on earlier jobs
        self._queue: queue.Queue[Job] = queue.Queue()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def submit(self, levers: Levers) -> Job:
        """Check ``levers`` (InputError on a bad one) and queue the job; an identical job still
        queued or running is returned instead."""
        changes, exp = check(self.settings, levers)
        steps = [self._step(BASELINE, {}), self._step(levers.label, changes)]
        with self._lock:
            for job in self.jobs:
                if job.state in ("queued", "running") and job.steps == steps and job.label == levers.label:
                    return job
            job = Job(next(self._ids), levers.label, steps,
                      total=2 * exp.replications * len(exp.scenarios))
            self.jobs.append(job)
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="opvang-explore", daemon=True)
                self._thread.start()
        self._queue.put(job)
        return job

    def _step(self, label: str, changes: dict[str, Any]) -> tuple[Path, Path]:
        """The experiment file (written once) and the results folder of a scenario."""
        name = scenario_hash(self.settings, changes)
        folder = self.settings.own / "experiments"
        path = folder / f"{name}.toml"
        if not path.exists():
            write_atomic(path, experiment_text(self.settings, label, changes, folder).encode())
        return path, self.settings.own / "results" / name

    def ahead(self, job: Job) -> int:
        """Jobs before this one that have not finished."""
        return sum(1 for j in self.jobs if j.id < job.id and j.state in ("queued", "running"))

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            job.state, job.started = "running", time.perf_counter()
            try:
                self._run(job)
                job.state = "done"
            except (InputError, SweepStoppedError) as err:
                job.error, job.state = " ".join(str(err).split()), "failed"
            except Exception as err:  # shown on the page, not lost in a thread
                traceback.print_exc()
                job.error, job.state = f"{type(err).__name__}: {err}", "failed"

    def _run(self, job: Job) -> None:
        offset = 0
        for path, out in job.steps:
            if not _complete(out):
                exp = read_experiment(path)
                job._last = None
                first = offset

                def seen(done: int, total: int, first: int = first) -> None:
                    if job._last is not None:
                        job.fresh += done - job._last
                    job._last, job.done = done, first + done

                report = sweep(exp, out, workers=self.settings.workers, progress=False, on_task=seen)
                job.computed += report.computed
            offset += _tasks(out)
            job.done = offset
        if job.computed:
            self.pace = (time.perf_counter() - job.started) / job.computed
        job.report = answer(job)
        figures = {}
        for kind in PAGE_FIGURES:
            fig = FIGURES[kind](job.report, self.lang)
            figures[kind] = None if fig is None else png(fig)
        job.html = fragment(job.report, self.lang, figures)  # drawn here, not in the page's loop

    def estimate(self, job: Job) -> str:
        """Time left, from this job's pace, else from the pace of earlier ones."""
        if job.state != "running" and job.state != "queued":
            return ""
        left = job.total - job.done
        if job.state == "running" and job.fresh > 0:
            pace: float | None = (time.perf_counter() - job.started) / job.fresh
        else:
            pace = self.pace
        if pace is None:
            return "estimate after the first task"
        return f"about {max(1, round(pace * left))} s left for {left} tasks"


def answer(job: Job) -> Report:
    """The chosen scenario against the baseline, paired replication by replication."""
    frames = []
    for (_, out), name in zip(job.steps, (BASELINE, job.label), strict=True):
        frame = load(out, "annual", overrides=False)
        frames.append(frame.assign(scenario=name))
    annual = pd.concat(frames, ignore_index=True)
    annual["scenario"] = pd.Categorical(annual["scenario"], categories=[BASELINE, job.label])
    manifest = read_manifest(job.steps[1][1]) or {}
    return compute(annual, {**manifest, "experiment": job.label, "baseline": BASELINE}, None)


def _complete(out: Path) -> bool:
    path = out / "manifest.json"
    return path.is_file() and json.loads(path.read_text()).get("status") == "complete"


def _tasks(out: Path) -> int:
    manifest = read_manifest(out) or {}
    return int(manifest.get("tasks") or 0)
