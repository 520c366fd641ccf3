"""The evaluations of a search as a sweep dataset: one task per (candidate, replication).

A candidate is a scenario of the experiment (its overrides are the decision values); its
replication ``r`` uses the experiment's seed, index ``r`` and posterior draw ``r``, as every
other candidate's does (common random numbers). Tasks run on the sweep's backends and are
written as a sweep writes them (``<table>/scenario=<candidate>/rep-<r>.parquet``, atomically,
with ``checksums.sha256``), under a manifest of kind ``optimise``: a killed search run again
finds its evaluations on disk, checks them, and computes only the missing ones.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from sim.batch.backends import Backend
from sim.batch.dataset import LAYOUT, read_manifest, record_checksum, task_file, write_atomic, write_manifest
from sim.batch.tasks import run_task
from sim.input.errors import InputError
from sim.model.files import to_jsonable
from sim.study.experiment import Experiment, Scenario, tasks
from sim.study.optimise.spec import Measure, Optimise

KIND = "optimise"


def definition(exp: Experiment) -> dict[str, Any]:
    """What determines a search's results (its candidates follow from it)."""
    assert exp.optimise is not None
    post = exp.posterior
    return {"experiment": exp.name, "seed": exp.seed, "replications": exp.replications,
            "tables": list(exp.tables), "baseline": exp.baseline,
            "baseline_model": exp.scenarios[exp.baseline].hash,
            "posterior": None if post is None else {"sha256": post.sha256, "columns": list(post.columns)},
            "optimise": exp.optimise.record()}


def definition_hash(exp: Experiment) -> str:
    """A stable hash of :func:`definition`."""
    return hashlib.sha256(json.dumps(definition(exp), sort_keys=True).encode()).hexdigest()[:16]


def check_out(out: Path, exp: Experiment) -> dict[str, Any] | None:
    """Refuse a folder that is not this search's; its manifest when resuming."""
    if not out.exists() or not any(p.name == "manifest.json" or p.is_dir() for p in out.iterdir()):
        return None
    manifest = read_manifest(out)
    if manifest is None or manifest.get("kind") != KIND:
        raise InputError(str(out), "", "already exists, is not empty and holds no optimise "
                         "manifest; choose another --out")
    if manifest.get("definition_hash") != definition_hash(exp):
        old = manifest.get("definition") or {}
        changed = [k for k, v in definition(exp).items() if old.get(k) != v] or ["the definition"]
        raise InputError(str(out / "manifest.json"), "definition_hash", f"these results come from "
                         f"another definition of the search {exp.name} (changed: {', '.join(changed)}); "
                         "results are never mixed: use a new --out, or move the folder away")
    return manifest


class Store:
    """The candidates registered so far, their tasks on disk, and the measures read from them."""

    def __init__(self, exp: Experiment, out: Path, backend: Backend, manifest: dict[str, Any],
                 done: set[tuple[str, int]]) -> None:
        assert exp.optimise is not None
        self.exp, self.out, self.backend, self.manifest = exp, out, backend, manifest
        self.spec: Optimise = exp.optimise
        self.done = done
        self.scenarios: dict[str, Scenario] = {}
        self.computed, self.cpu_seconds = 0, 0.0
        self._values: dict[tuple[str, int], np.ndarray] = {}
        self._registered: tuple[int, int] = (-1, -1)
        self.add(exp.scenarios[exp.baseline])

    def add(self, scenario: Scenario) -> None:
        """Register a candidate (once; the first origin stays)."""
        self.scenarios.setdefault(scenario.name, scenario)

    def evaluate(self, names: Sequence[str], replications: Iterable[int]) -> None:
        """Compute the missing tasks of ``names`` over ``replications`` and write them."""
        reps = list(replications)
        self._record(max(reps) + 1 if reps else 0)
        exp = dataclasses.replace(self.exp, scenarios={n: self.scenarios[n] for n in dict.fromkeys(names)})
        for result in self.backend.map(run_task, tasks(exp, skip=self.done, replications=reps)):
            for table, data in result.files.items():
                path = task_file(self.out, table, result.scenario, result.replication)
                if not path.exists():
                    write_atomic(path, data)
                    record_checksum(self.out, path, data)
            self.done.add((result.scenario, result.replication))
            self.computed += 1
            self.cpu_seconds += result.cpu_seconds

    def values(self, name: str, replications: Iterable[int]) -> np.ndarray:
        """Each measure (objectives, then constraints) per replication: rows replications."""
        rows = []
        for r in replications:
            if (name, r) not in self._values:
                self._values[(name, r)] = self._read(name, r)
            rows.append(self._values[(name, r)])
        return np.array(rows, dtype=float).reshape(len(rows), len(self.spec.measures))

    def _read(self, name: str, r: int) -> np.ndarray:
        table = pq.read_table(task_file(self.out, "annual", name, r),
                              columns=["year", "metric", "group", "value"]).to_pandas()
        out = []
        for m in self.spec.measures:
            rows = table[(table["metric"] == m.metric) & table["group"].isin(m.summed)
                         & table["year"].between(*m.years)]
            out.append(float(rows.groupby("year")["value"].sum().mean()) if len(rows) else np.nan)
        return np.array(out)

    def check_metrics(self) -> None:
        """Every measure must be a metric and group of the baseline's yearly table."""
        path = task_file(self.out, "annual", self.exp.baseline, 0)
        table = pq.read_table(path, columns=["metric", "group"]).to_pandas()
        pairs = set(zip(table["metric"], table["group"], strict=True))
        metrics = sorted(set(table["metric"]))
        n = len(self.spec.objectives)
        for i, m in enumerate(self.spec.measures):
            key = f"optimise.objectives[{i}]" if i < n else f"optimise.constraints[{i - n}]"
            _check_measure(m, pairs, metrics, self.exp.file, key)

    def _record(self, replications: int) -> None:
        """Write the manifest when candidates or replications were added since the last time."""
        size = (len(self.scenarios), replications)
        if size != self._registered:
            self._registered = size
            self.manifest.update(scenarios=self._scenario_records(),
                                 posterior=self._draws(max(replications, self.exp.replications)))
            write_manifest(self.out, self.manifest)

    def _scenario_records(self) -> dict[str, Any]:
        out = {}
        for name, s in self.scenarios.items():
            out[name] = {"origin": s.origin, "overrides": s.overrides, "model_hash": s.hash}
            if name == self.exp.baseline:
                out[name]["model"] = to_jsonable(s.model)  # the others: its overrides on it
        return out

    def _draws(self, replications: int) -> dict[str, Any] | None:
        post, seed = self.exp.posterior, self.exp.seed
        if post is None:
            return None
        rows = [post.draw(seed, r) for r in range(replications)]
        return {"file": post.file, "sha256": post.sha256, "columns": list(post.columns),
                "rule": "replication r uses the row drawn by weight from stream 'posterior' of "
                        "(seed, r), in every candidate; a candidate's overrides win over the draw",
                "draws": [{"replication": r, "row": row, "values": post.overrides(row)}
                          for r, row in enumerate(rows)]}


def new_manifest(exp: Experiment, previous: dict[str, Any] | None, session: dict[str, Any]) -> dict[str, Any]:
    """The provenance of a search: definition, seeds, sessions; candidates are added as they come."""
    first = previous or {}
    sessions = [{**old, "status": "killed"} if old.get("status") == "running" else old
                for old in first.get("sessions") or []]
    return {"kind": KIND, "experiment": exp.name, "experiment_file": exp.file,
            "description": exp.description, "definition_hash": definition_hash(exp),
            "definition": definition(exp), "model_file": exp.model_file, "baseline": exp.baseline,
            "horizon": exp.horizon, "tables": list(exp.tables), "replications": exp.replications,
            "seeds": {"seed": exp.seed, "rule": "replication r of every candidate uses seed and "
                      "replication index r (common random numbers)"},
            "layout": LAYOUT, "checksums": "checksums.sha256: the SHA-256 of each result file",
            "scenarios": {}, "posterior": None, "status": "running",
            "started": first.get("started") or session["started"], "ended": None,
            "git_commit": first.get("git_commit") or session["git_commit"],
            "versions": first.get("versions") or session["versions"], "sessions": [*sessions, session]}


def _check_measure(m: Measure, pairs: set[tuple[str, str]], metrics: list[str], file: str,
                   key: str) -> None:
    missing = [g for g in m.summed if (m.metric, g) not in pairs]
    if not missing:
        return
    if m.metric not in metrics:
        close = difflib.get_close_matches(m.metric, metrics, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise InputError(file, f"{key}.metric", f"no metric {m.metric!r} in the baseline's yearly "
                         f"table{hint} (metrics: docs/metrics.md)")
    groups = sorted(g for metric, g in pairs if metric == m.metric)
    raise InputError(file, f"{key}.{'groups' if m.groups else 'group'}", f"metric {m.metric} has no "
                     f"group {missing[0]!r}; expected one of {', '.join(groups)}")


def log(text: str, progress: bool) -> None:
    """A line of progress on stderr."""
    if progress:
        print(text, file=sys.stderr, flush=True)
