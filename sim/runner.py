"""Run replications of one scenario and collect their tables with run keys."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from tqdm import tqdm

from sim.engine import run_replication
from sim.model import Model
from sim.modelfile import model_hash

TABLES = ("annual", "daily", "events")


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


def run(model: Model, replications: int = 1, seed: int = 0, *, until_year: int | None = None,
        events: bool = False, experiment: str = "run", scenario: str | None = None,
        progress: bool = True, parameter_sets: Sequence[Model] | None = None) -> Results:
    """Run ``replications`` independent replications of ``model``.

    Replication ``r`` is a pure function of (model, seed, r): the same call gives the same
    tables, and replication ``r`` of any scenario shares its arrivals with replication ``r``
    of every other scenario run with the same seed. With ``parameter_sets`` (one model per
    replication, e.g. drawn from a calibration posterior) replication ``r`` runs
    ``parameter_sets[r]`` instead, so the results carry parameter uncertainty too.
    """
    if parameter_sets is not None and len(parameter_sets) != replications:
        raise ValueError("one parameter set per replication is needed")
    if replications < 1:
        raise ValueError("replications must be at least 1")
    scenario = scenario or model.name
    started = time.perf_counter()
    parts: dict[str, list[pd.DataFrame]] = {name: [] for name in TABLES}
    n_events = 0
    for r in tqdm(range(replications), desc=f"{scenario}", unit="rep", disable=not progress):
        rep = run_replication(parameter_sets[r] if parameter_sets else model, seed, r,
                              until_year=until_year, events=events)
        n_events += rep.n_events
        for name, table in (("annual", rep.annual), ("daily", rep.daily), ("events", rep.events)):
            if table is not None:
                parts[name].append(with_keys(table, experiment, scenario, r, seed))
    tables = {name: pd.concat(p, ignore_index=True) for name, p in parts.items() if p}
    return Results(model, seed, replications, tables, experiment, scenario,
                   time.perf_counter() - started,
                   {"model_hash": model_hash(model), "simpy_events": n_events})


def with_keys(table: pd.DataFrame, experiment: str, scenario: str, replication: int,
              seed: int) -> pd.DataFrame:
    """Prefix a replication's table with the run keys."""
    keys = pd.DataFrame({
        "experiment": pd.Series([experiment] * len(table), dtype="string"),
        "scenario": pd.Series([scenario] * len(table), dtype="string"),
        "replication": pd.Series([replication] * len(table), dtype="int32"),
        "seed": pd.Series([seed] * len(table), dtype="int64"),
    })
    return pd.concat([keys, table.reset_index(drop=True)], axis=1)
