"""One replication: a pure function of (model, seed, replication index)."""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.components.intake import intake_record
from sim.engine.log import Recorder, stage_names
from sim.engine.streams import Streams
from sim.measure.metrics import derive
from sim.measure.possible import absent_rows
from sim.measure.record import BudgetRecord, RunRecord
from sim.model.root import Model
from sim.replication.journey import Region


@dataclass
class Replication:
    """The tables of one replication (without run keys)."""

    annual: pd.DataFrame
    daily: pd.DataFrame
    events: pd.DataFrame | None
    n_events: int  # SimPy events processed
    n_visits: int = 0  # rows of the event log: a client entering a stage (benchmarks)
    n_clients: int = 0  # persons (benchmarks)
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds by phase (benchmarks)


def run_replication(model: Model, seed: int, replication: int, *, until_year: int | None = None,
                    events: bool = False, daily: bool = True) -> Replication:
    """Simulate one replication and derive its tables (``daily`` False: an empty daily table).

    Python's cyclic garbage collector is held off meanwhile (:func:`collector_held`).
    """
    if until_year is not None:
        model = dataclasses.replace(
            model, simulation=dataclasses.replace(model.simulation, end_year=until_year))
    with collector_held() as cpu:
        return _replicate(model, seed, replication, events, daily, cpu)


def _replicate(model: Model, seed: int, replication: int, events: bool, daily: bool,
               cpu: dict[str, float]) -> Replication:
    started = time.process_time()
    region = Region(model, Streams(seed, replication), Recorder())
    region.start()
    set_up = time.process_time()
    region.env.run(until=region.horizon)
    ran = time.process_time()
    record = run_record(region)
    stocks, annual = derive(record)
    rep = Replication(
        annual=annual,
        daily=stocks.table(model.simulation.start) if daily else pd.DataFrame(),
        events=_events_frame(region, record.log.events) if events else None,
        n_events=_events_processed(region),
        n_visits=len(record.log.events["time"]),
        n_clients=len(record.log.client_group),
        cpu=cpu,
    )
    derived = time.process_time()
    region.close()
    del region, record  # reference counting frees the run here
    cpu.update({"set-up": set_up - started, "event loop": ran - set_up,
                "indicators": derived - ran, "teardown": time.process_time() - derived})
    return rep


@contextlib.contextmanager
def collector_held() -> Iterator[dict[str, float]]:
    """Hold off Python's cyclic garbage collector for a replication (restored even on error).

    A replication makes hundreds of thousands of objects and frees most of them by reference
    counting; the collector's passes over the ones alive grow with the volume (ten times the
    arrivals cost 13 times the CPU with it). Afterwards one pass over the young generation
    (everything made meanwhile) frees what is left in reference cycles: little, as the
    replication closes its region so that reference counting frees it (:meth:`Region.close`).
    Yields a dict in which the CPU seconds of that pass are put as ``"collector"``. If the
    collector was off already, it is left alone.
    """
    cpu: dict[str, float] = {}
    if not gc.isenabled():
        yield cpu
        return
    gc.disable()
    try:
        yield cpu
    finally:
        gc.enable()
        started = time.process_time()
        gc.collect(0)
        cpu["collector"] = time.process_time() - started


def _events_processed(region: Region) -> int:
    """Events the SimPy loop scheduled (its private counter; used for benchmarks only)."""
    counter = getattr(region.env, "_eid", None)
    return int(next(counter)) if counter is not None else 0


def run_record(region: Region) -> RunRecord:
    """What a finished replication recorded: each component's own record."""
    model = region.model
    start_year, end_year = model.simulation.start.year, model.simulation.end_year
    groups = model.groups.values()
    return RunRecord(
        log=region.rec.record(),
        shelters=region.shelters.record(),
        pools=[places.record() for places in region.places],
        housing=region.housing.record([g.channels for g in groups], list(model.origin)),
        intake=intake_record(model.groups, list(model.origin), model.outside_region,
                             region.group_names, region.calendar),
        homeless=model.homeless,
        budgets=BudgetRecord.of(model.budgets),
        start=model.simulation.start,
        years=list(range(start_year, end_year + 1)),
        year_edges=region.calendar.year_bounds(start_year, end_year),
        horizon=region.horizon,
        absent=absent_rows(model),
    )


def _events_frame(region: Region, ev: dict[str, np.ndarray]) -> pd.DataFrame:
    reasons = np.array(region.rec.reason_names() or [""], dtype=object)
    facilities = np.array(["", *[p.name for p in region.shelters.pools]], dtype=object)
    names = stage_names(region.pool_names)
    stages = np.array(names, dtype=object)
    groups = np.array(region.group_names, dtype=object)
    client_group, _ = region.rec.clients()
    return pd.DataFrame({
        "client": ev["client"], "time": ev["time"],
        "group": pd.Categorical(groups[client_group[ev["client"]]], categories=list(groups)),
        "from": pd.Categorical(stages[ev["src"]], categories=names),
        "to": pd.Categorical(stages[ev["dst"]], categories=names),
        "facility": facilities[ev["facility"].astype(np.intp) + 1],
        "reason": reasons[ev["reason"]],
    })
