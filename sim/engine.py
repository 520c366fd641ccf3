"""One replication: a pure function of (model, seed, replication index)."""

from __future__ import annotations

import dataclasses
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.journey import BW_DIRECT, Region
from sim.metrics import RunRecord, annual
from sim.model import Model
from sim.recording import STAGES, Recorder
from sim.streams import Streams


@dataclass
class Replication:
    """The tables of one replication (without run keys)."""

    annual: pd.DataFrame
    daily: pd.DataFrame
    events: pd.DataFrame | None
    n_events: int  # SimPy events processed


def run_replication(model: Model, seed: int, replication: int, *, until_year: int | None = None,
                    events: bool = False) -> Replication:
    """Simulate one replication and derive its tables."""
    if until_year is not None:
        model = dataclasses.replace(
            model, simulation=dataclasses.replace(model.simulation, end_year=until_year))
    recorder = Recorder()
    region = Region(model, Streams(seed, replication), recorder)
    region.start()
    sampler = DailySampler(region)
    region.env.process(sampler.run())
    region.env.run(until=region.horizon + 0.5)
    n_events = _events_processed(region)
    record = _run_record(model, region, recorder, sampler)
    rows = annual(record)
    annual_df = pd.DataFrame(rows, columns=["year", "metric", "group", "value"])
    return Replication(annual_df, sampler.frame(region), _events_frame(region, recorder)
                       if events else None, n_events)


def _events_processed(region: Region) -> int:
    """Events the SimPy loop scheduled (its private counter; used for benchmarks only)."""
    counter = getattr(region.env, "_eid", None)
    return int(next(counter)) if counter is not None else 0


class DailySampler:
    """Occupancy, capacity and queue of every facility and stage at the start of each day."""

    def __init__(self, region: Region) -> None:
        self.region = region
        start = 0.0
        self.days = np.arange(start, region.horizon + 1.0)
        self.columns = [f"{p.name}:{k}" for p in region.shelters.pools
                        for k in ("occupancy", "capacity")]
        self.columns += ["wacht_op_bed:queue", "bw:occupancy", "bw:capacity", "bw:queue",
                         "beschut:occupancy", "beschut:capacity", "beschut:queue",
                         "woning:queue"]
        self.values = np.zeros((len(self.days), len(self.columns)))

    def run(self) -> Generator[Any, Any, None]:
        r = self.region
        env, pools, values = r.env, r.shelters.pools, self.values
        yield env.timeout(self.days[0] - env.now)
        for i in range(len(self.days)):
            row = []
            for p in pools:
                row += [p.occupied, p.capacity]
            row += [r.shelters.waiting, r.bw.occupied, r.bw.capacity, r.bw.waiting,
                    r.beschut.occupied, r.beschut.capacity, r.beschut.waiting, r.housing.waiting]
            values[i] = row
            if i + 1 < len(self.days):
                yield env.timeout(1.0)

    def frame(self, region: Region) -> pd.DataFrame:
        """Long table: day, date, facility (or stage), occupancy, capacity, queue."""
        names = [p.name for p in region.shelters.pools] + ["wacht_op_bed", "bw", "beschut",
                                                            "woning"]
        col = {c: i for i, c in enumerate(self.columns)}
        n = len(self.days)
        parts = []
        for name in names:
            def get(kind: str, name: str = name) -> np.ndarray:
                i = col.get(f"{name}:{kind}")
                return self.values[:, i] if i is not None else np.full(n, np.nan)
            parts.append(pd.DataFrame({
                "day": self.days.astype(np.int32), "facility": name,
                "occupancy": get("occupancy"), "capacity": get("capacity"),
                "queue": get("queue")}))
        out = pd.concat(parts, ignore_index=True)
        start = np.datetime64(region.calendar.start.isoformat())
        out.insert(1, "date", start + out["day"].to_numpy().astype("timedelta64[D]"))
        return out


def _run_record(model: Model, region: Region, recorder: Recorder,
                sampler: DailySampler) -> RunRecord:
    start_year, end_year = model.simulation.start.year, model.simulation.end_year
    return RunRecord(
        events=recorder.events(),
        reasons=recorder.reason_names(),
        client_group=np.frombuffer(recorder.client_group, dtype=np.int16),
        client_origin=np.frombuffer(recorder.client_origin, dtype=np.int8),
        group_names=[*model.groups, BW_DIRECT],
        bct_groups=[g for g, grp in model.groups.items() if grp.via_bct],
        origin_names=list(model.origin),
        facility_names=[p.name for p in region.shelters.pools],
        facility_report_as=[p.report_as for p in region.shelters.pools],
        facility_cost=np.array([f.cost_per_day for f in model.facilities.values()]),
        bw_cost=model.bw.cost_per_day,
        beschut_cost=model.bw.beschut_cost_per_day,
        unused_time=np.frombuffer(recorder.unused_time, dtype=np.float64),
        unused_reason=np.frombuffer(recorder.unused_reason, dtype=np.int16),
        daily_days=sampler.days,
        daily_columns=sampler.columns,
        daily=sampler.values,
        years=list(range(start_year, end_year + 1)),
        year_edges=region.calendar.year_bounds(start_year, end_year),
        horizon=region.horizon,
    )


def _events_frame(region: Region, recorder: Recorder) -> pd.DataFrame:
    ev = recorder.events()
    reasons = np.array(recorder.reason_names() or [""], dtype=object)
    facilities = np.array(["", *[p.name for p in region.shelters.pools]], dtype=object)
    stages = np.array(STAGES, dtype=object)
    return pd.DataFrame({
        "client": ev["client"], "time": ev["time"],
        "from": pd.Categorical(stages[ev["src"]], categories=STAGES),
        "to": pd.Categorical(stages[ev["dst"]], categories=STAGES),
        "facility": facilities[ev["facility"] + 1],
        "reason": reasons[ev["reason"]],
    })
