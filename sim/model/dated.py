"""Dated entries that cannot act within a model's simulated period.

A model runs from 1 January of its first warm-up year to the end of ``end_year``. A dated
entry (a facility's or pool's schedule entry, a channel's dated change, its start, a pool's
Wlz transfer) has no effect when it is dated on or after the end, or when it is dated before
the run starts and a later entry, also before the start, gives every field it gives (entries
before the start all take effect at the start, the latest last). Such an entry is harmless
in a model reused with a shorter horizon, but in a scenario it means the scenario equals its
base: the callers warn about the first and refuse the second.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Set

from sim.model.root import Model

Entries = Mapping[str, Set[str]]  # date -> the fields the entry gives


def period(model: Model) -> tuple[dt.date, dt.date]:
    """The first day of the run (the warm-up's start) and the day after its last."""
    sim = model.simulation
    return dt.date(sim.start.year - sim.warmup_years, 1, 1), dt.date(sim.end_year + 1, 1, 1)


def idle_entries(model: Model) -> dict[str, str]:
    """Dotted key -> why, of every dated entry that has no effect within the run."""
    first, end = period(model)
    out: dict[str, str] = {}
    for fid, fac in model.facilities.items():
        given = {d: {f for f in ("places", "regime", "room_type") if getattr(e, f) is not None}
                 for d, e in fac.schedule.items()}
        out |= _idle(f"facilities.{fid}.schedule", given, first, end)
    for name, pool in model.places.items():
        out |= _idle(f"places.{name}.schedule", {d: {"places"} for d in pool.schedule}, first, end)
        if pool.wlz_transfer is not None and pool.wlz_transfer.date >= end:
            out[f"places.{name}.wlz_transfer"] = _after(pool.wlz_transfer.date, end)
    for name, channel in model.channels.items():
        opens = max(first, channel.start) if channel.start else first
        if channel.start is not None and channel.start >= end:
            out[f"channels.{name}.start"] = _after(channel.start, end)
        given = {d: set(change) for d, change in channel.dated.items()}
        out |= _idle(f"channels.{name}.dated", given, opens, end)
    return out


def _idle(prefix: str, entries: Entries, opens: dt.date, end: dt.date) -> dict[str, str]:
    """The entries of one dated table that cannot act between ``opens`` and ``end``."""
    dates = {d: dt.date.fromisoformat(d) for d in entries}
    out = {}
    for d, fields in entries.items():
        when = dates[d]
        if when >= end:
            out[f"{prefix}.{d}"] = _after(when, end)
        elif when <= opens and all(any(when < dates[o] <= opens and field in entries[o]
                                       for o in entries) for field in fields):
            out[f"{prefix}.{d}"] = (f"dated {when}, before the run starts ({opens}), and replaced "
                                    "then by a later entry")
    return out


def _after(when: dt.date, end: dt.date) -> str:
    return f"dated {when}, after the horizon's end ({end - dt.timedelta(days=1)})"


def idle_overrides(model: Model, keys: list[str]) -> dict[str, str]:
    """Those of the dotted ``keys`` (overrides) that set an idle entry of ``model``, with why."""
    idle = idle_entries(model)
    out = {}
    for key in keys:
        hit = next((k for k in idle if key == k or key.startswith(f"{k}.")), None)
        if hit is not None:
            out[key] = idle[hit]
    return out


def warning(model: Model, where: str, idle: Mapping[str, str], what: str = "dated") -> str:
    """The one-line warning about ``idle`` entries (or a sample's factors: ``what``) of a
    model's run, the first few keys with why."""
    first, end = period(model)
    noun = ("dated entry has", "dated entries have") if what == "dated" else (
        "factor of the sample cannot act", "factors of the sample cannot act")
    verb = noun[len(idle) > 1] + (" no effect" if what == "dated" else "")
    shown = "; ".join(f"{key} ({why})" for key, why in list(idle.items())[:4])
    more = f"; and {len(idle) - 4} more" if len(idle) > 4 else ""
    return (f"warning: {where}: {len(idle)} {verb} in the run from {first} to "
            f"{end - dt.timedelta(days=1)}: {shown}{more}")
