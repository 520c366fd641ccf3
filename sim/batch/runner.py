"""Run replications of one scenario and collect their tables with run keys."""

from __future__ import annotations

import gc
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from tqdm import tqdm

from sim.batch.backends import make_backend
from sim.batch.tasks import TABLES, Task, Variant, run_task
from sim.model.files import model_hash
from sim.model.root import Model


@dataclass
class Results:
    """Tables of a run with run keys (experiment, scenario, replication, seed)."""

    model: Model
    seed: int
    replications: int
    tables: dict[str, pd.DataFrame]
    experiment: str = "run"
    scenario: str = "baseline"
    seconds: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)


def replication_tasks(model: Model, replications: int, seed: int, *, tables: tuple[str, ...],
                      scenario: str, experiment: str = "run", until_year: int | None = None,
                      parameter_sets: Sequence[Model | Variant] | None = None,
                      encode: bool = True) -> list[Task]:
    """Replications 0, 1, ... of ``model`` (or of ``parameter_sets[r]``) as tasks."""
    if parameter_sets is not None and len(parameter_sets) != replications:
        raise ValueError("one parameter set per replication is needed")
    if replications < 1:
        raise ValueError("replications must be at least 1")
    return [Task(scenario, r, seed, parameter_sets[r] if parameter_sets else model, tables,
                 experiment, until_year, encode) for r in range(replications)]


def run(model: Model, replications: int = 1, seed: int = 0, *, until_year: int | None = None,
        events: bool = False, experiment: str = "run", scenario: str | None = None,
        progress: bool = True, parameter_sets: Sequence[Model | Variant] | None = None,
        workers: int = 1) -> Results:
    """Run ``replications`` independent replications of ``model`` and keep their tables.

    Replication ``r`` is a pure function of (model, seed, r): the same call gives the same
    tables, and replication ``r`` of any scenario shares its arrivals with replication ``r``
    of every other scenario run with the same seed. With ``parameter_sets`` (one model per
    replication, e.g. drawn from a calibration posterior) replication ``r`` runs
    ``parameter_sets[r]`` instead, so the results carry parameter uncertainty too. Every
    table stays in memory; ``opvang run`` streams them to disk instead
    (:func:`sim.batch.output.write_run`).
    """
    scenario = scenario or model.name
    names = TABLES if events else TABLES[:2]
    tasks = replication_tasks(model, replications, seed, tables=names, scenario=scenario,
                              experiment=experiment, until_year=until_year,
                              parameter_sets=parameter_sets, encode=False)
    started = time.perf_counter()
    parts: dict[str, list[pd.DataFrame]] = {name: [] for name in names}
    n_events = 0
    with make_backend(workers) as backend:
        for output in tqdm(backend.map(run_task, tasks, ordered=True), total=replications,
                           desc=scenario, unit="rep", disable=not progress):
            n_events += output.n_events
            for name, table in output.tables.items():
                parts[name].append(table)
            gc.collect()  # a replication's objects form cycles: free them before the next
    tables = {name: pd.concat(p, ignore_index=True) for name, p in parts.items()}
    return Results(model, seed, replications, tables, experiment, scenario,
                   time.perf_counter() - started,
                   {"model_hash": model_hash(model), "simpy_events": n_events})
