"""The levers of the explorer page, turned into an experiment file that the experiment reader
checks (the same rules, and the same messages, as an experiment a researcher writes).

A lever set is a scenario of the model: dated changes from 1 January of a chosen year (places,
room type and regime of one facility; Housing First and Pact homes a year for Haarlem; the Pact
at its full quota) and the model's demand path and winter places. Only values that differ from
the model's are overrides. The page writes each scenario as its own small experiment, with the
page's seed, replications and posterior: replication r of every such experiment uses the same
seed and index r, hence the same clients and parameter draw as the baseline's (paired).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.input.errors import InputError
from sim.model.files import resolve
from sim.study.experiment import Experiment, read_experiment

OWN = "explore"  # the page's own folder under the folder it serves
BASELINE = "baseline"
ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Settings:
    """What every scenario of the page runs with (from the command line, not the page)."""

    folder: Path
    model: Path = ROOT / "models" / "haarlem.toml"
    posterior: Path | None = ROOT / "calibration" / "fitted" / "haarlem_posterior.parquet"
    replications: int = 20
    seed: int = 20190101
    end_year: int | None = None
    warmup_years: int | None = None
    workers: int = 1

    @property
    def own(self) -> Path:
        return self.folder / OWN


@dataclass(frozen=True)
class Levers:
    """One scenario as the page sets it; None or "" leaves the model's value."""

    label: str = "my_scenario"
    year: int = 2025
    facility: str = ""
    places: int | None = None
    room_type: str = ""
    regime: str = ""
    housing_first: int | None = None
    pact: int | None = None
    pact_full: bool = False
    demand_path: str = ""
    winter_places: dict[str, int] = field(default_factory=dict)


def overrides(levers: Levers, raw: dict[str, Any]) -> dict[str, Any]:
    """The dotted-key overrides of ``levers`` against the model mapping ``raw``."""
    date = f"{levers.year}-01-01"
    now = current(raw, levers.year)
    out: dict[str, Any] = {}
    if levers.facility:
        entry = now["facilities"].get(levers.facility, {})
        for key, value in (("places", levers.places), ("room_type", levers.room_type),
                           ("regime", levers.regime)):
            if value not in (None, "") and value != entry.get(key):
                out[f"facilities.{levers.facility}.schedule.{date}.{key}"] = value
    if levers.housing_first is not None and levers.housing_first != now["housing_first"]:
        out[f"channels.housing_first.dated.{date}.haarlem"] = levers.housing_first
    if levers.pact is not None and levers.pact != now["pact"]:
        out[f"channels.pact.dated.{date}.haarlem"] = levers.pact
    if levers.pact_full:
        for part in raw["channels"]["pact"]["realisation"]:
            out[f"channels.pact.realisation.{part}"] = 1.0
    if levers.demand_path and levers.demand_path != raw["simulation"].get("demand_path"):
        out["simulation.demand_path"] = levers.demand_path
    for facility, places in levers.winter_places.items():
        if places != raw["facilities"].get(facility, {}).get("winter_places"):
            out[f"facilities.{facility}.winter_places"] = places
    return out


def current(raw: dict[str, Any], year: int) -> dict[str, Any]:
    """The model's values on 1 January of ``year``: each facility's schedule entry in force,
    and Housing First's and the Pact's homes a year for Haarlem."""
    day = dt.date(year, 1, 1)
    facilities = {}
    for name, spec in raw["facilities"].items():
        entry: dict[str, Any] = {}
        for date in sorted(spec.get("schedule", {}), key=str):
            if dt.date.fromisoformat(str(date)) <= day:
                entry |= spec["schedule"][date]
        facilities[name] = entry
    homes = {}
    for channel in ("housing_first", "pact"):
        spec = raw["channels"][channel]
        value = spec["homes_per_year"].get("haarlem")
        for date in sorted(spec.get("dated", {}), key=str):
            if dt.date.fromisoformat(str(date)) <= day and "haarlem" in spec["dated"][date]:
                value = spec["dated"][date]["haarlem"]
        homes[channel] = value
    return {"facilities": facilities, **homes}


def experiment_text(settings: Settings, label: str, changes: dict[str, Any], folder: Path) -> str:
    """An experiment file of one scenario, paths relative to ``folder`` where it is written."""
    lines = [f"name = {json.dumps('explore-' + scenario_hash(settings, changes))}",
             f"description = {json.dumps('written by opvang explore: ' + label)}",
             f"model = {json.dumps(os.path.relpath(settings.model.resolve(), folder.resolve()))}",
             f"replications = {settings.replications}", f"seed = {settings.seed}", 'tables = ["annual"]']
    if settings.posterior is not None:
        relative = os.path.relpath(settings.posterior.resolve(), folder.resolve())
        lines.append(f"posterior = {json.dumps(relative)}")
    horizon = {"end_year": settings.end_year, "warmup_years": settings.warmup_years}
    if any(v is not None for v in horizon.values()):
        lines += ["[horizon]", *(f"{k} = {v}" for k, v in horizon.items() if v is not None)]
    lines.append(f"[scenarios.{json.dumps(label)}]")
    lines += [f"{json.dumps(key)} = {json.dumps(value)}" for key, value in changes.items()]
    return "\n".join(lines) + "\n"


def scenario_hash(settings: Settings, changes: dict[str, Any]) -> str:
    """Names a scenario's experiment and results: its overrides and what it runs with."""
    post = settings.posterior
    record = {"overrides": changes, "model": str(settings.model.resolve()),
              "posterior": None if post is None else hashlib.sha256(post.read_bytes()).hexdigest(),
              "replications": settings.replications, "seed": settings.seed,
              "end_year": settings.end_year, "warmup_years": settings.warmup_years}
    return hashlib.sha256(json.dumps(record, sort_keys=True, default=str).encode()).hexdigest()[:12]


def check(settings: Settings, levers: Levers) -> tuple[dict[str, Any], Experiment]:
    """The overrides of ``levers``, checked as an experiment file is: an InputError names the
    lever's key and what was expected. The check reads a temporary file that is removed."""
    raw = resolve(settings.model)
    start = dt.date.fromisoformat(str(raw["simulation"]["start"])).year
    end = settings.end_year or int(raw["simulation"]["end_year"])
    if not start <= levers.year <= end:
        raise InputError("year", "", f"expected a year from {start} to {end} (the simulated years), "
                         f"got {levers.year}")
    if levers.label == BASELINE:
        raise InputError("name", "", f"{BASELINE!r} is the page's own baseline; choose another name")
    changes = overrides(levers, raw)
    folder = settings.own / "experiments"
    folder.mkdir(parents=True, exist_ok=True)
    probe = folder / f".check-{uuid.uuid4().hex[:8]}.toml"
    try:
        probe.write_text(experiment_text(settings, levers.label, changes, folder), encoding="utf-8")
        exp = read_experiment(probe)
    except InputError as err:
        key = err.key.removeprefix(f"scenarios.{levers.label}.").removeprefix("scenarios.")
        raise InputError("lever", key, err.expected) from None
    finally:
        probe.unlink(missing_ok=True)
    return changes, exp
