"""The engine's speed-ups keep SimPy's contracts and the results.

- :class:`sim.engine.processes.Light`: no start or end event, starts at once or on an event, can be
  interrupted; :class:`sim.engine.processes.Wake`: its own timer, or a component's value earlier
  (the timer's later entry is passed over); ``Environment.at``: an event at a given time as
  it is; ``Environment.close`` / ``Region.close``: reference counting frees a finished run.
- The garbage collector is held off during a replication and restored, also on error, and
  whether it runs or not changes nothing in the results.
- Fewer SimPy events: at most one event per client visit on the baseline model (there were
  two a visit before the light processes).

The check that the event log and the tables are the ones of the engine before these changes
is ``python scripts/benchmark.py --against 095d32c`` (it runs both engines).
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Generator
from typing import Any

import numpy as np
import pandas as pd
import pytest
import simpy
import simpy.events
from simcheck import build, haarlem_raw, minimal_raw, short

import sim.replication.replicate
from sim.engine.log import Recorder
from sim.engine.processes import Environment, Light, Wake
from sim.engine.streams import Streams
from sim.replication.journey import Region
from sim.replication.replicate import run_replication


def scheduled(env: simpy.Environment) -> int:
    """Events scheduled so far (SimPy's private counter; it counts one more after this)."""
    return int(next(env._eid))


def waiter(env: simpy.Environment, wake: simpy.Event, seen: list[Any]) -> Generator[Any, Any, None]:
    value = yield wake
    seen.append((env.now, value))


# --- Wake ------------------------------------------------------------------------------------


def test_a_wake_is_its_own_timer() -> None:
    env = simpy.Environment()
    seen: list[Any] = []
    wake = Wake(env, 5.0, "timer")
    Light(env, waiter(env, wake, seen)).start()
    env.run()
    assert seen == [(5.0, "timer")]
    assert scheduled(env) == 1  # the wake itself: no timeout beside it, no process events


def test_a_wake_succeeded_early_passes_over_its_timer() -> None:
    env = simpy.Environment()
    seen: list[Any] = []
    wake = Wake(env, 5.0, "timer")
    Light(env, waiter(env, wake, seen)).start()
    env.timeout(2.0).callbacks.append(lambda _: wake.succeed("bed"))
    env.run(until=10.0)
    assert seen == [(2.0, "bed")]
    with pytest.raises(RuntimeError):
        wake.succeed("again")


def test_a_wake_without_timer_waits_for_a_component() -> None:
    env = simpy.Environment()
    seen: list[Any] = []
    wake = Wake(env, float("inf"), None)
    Light(env, waiter(env, wake, seen)).start()
    env.run(until=100.0)
    assert seen == []
    wake.succeed("place")
    env.run(until=200.0)
    assert seen == [(100.0, "place")]


def test_a_fired_wake_cannot_be_succeeded_and_a_negative_delay_is_refused() -> None:
    env = simpy.Environment()
    wake = Wake(env, 1.0, None)
    env.run()
    with pytest.raises(RuntimeError):
        wake.succeed("late")
    with pytest.raises(ValueError):
        Wake(env, -1.0, None)


# --- Light -----------------------------------------------------------------------------------


def test_a_light_process_schedules_no_start_or_end_event() -> None:
    env = simpy.Environment()
    steps: list[float] = []

    def proc() -> Generator[Any, Any, None]:
        steps.append(env.now)
        yield env.timeout(3.0)
        steps.append(env.now)

    process = Light(env, proc()).start()
    assert steps == [0.0] and process.is_alive
    env.run()
    assert steps == [0.0, 3.0] and not process.is_alive
    assert scheduled(env) == 1  # the timeout only


def test_a_light_process_starts_on_an_event_and_can_be_interrupted() -> None:
    env = simpy.Environment()
    seen: list[Any] = []

    def proc() -> Generator[Any, Any, None]:
        seen.append(("start", env.now))
        try:
            yield env.timeout(10.0)
        except simpy.Interrupt as interrupt:
            seen.append((interrupt.cause, env.now))

    process = Light(env, proc()).start(env.timeout(2.0))
    env.timeout(5.0).callbacks.append(lambda _: process.interrupt("closed"))
    env.run()
    assert seen == [("start", 2.0), ("closed", 5.0)]


def test_environment_at_keeps_the_time_as_it_is() -> None:
    env = Environment(initial_time=-730.0)
    env.run(until=-729.3)
    times = [0.1 * k + 0.03 for k in range(200)]
    off = [t for t in times if env.now + (t - env.now) != t]
    assert off, "expected times that a timeout from now misses by a bit"
    seen: list[float] = []
    for t in off:
        env.at(t).callbacks.append(lambda _: seen.append(env.now))
    env.run()
    assert seen == sorted(off)
    with pytest.raises(ValueError):
        env.at(env.now - 1.0)


def test_regions_sharing_an_environment_run_as_each_alone() -> None:
    """What ``scripts/benchmark_locality.py`` relies on: interleaved with another region's
    events, a region logs the same visits at the same times as on its own."""
    model = build(short(haarlem_raw(), end_year=2019, warmup=1))

    def alone(replication: int) -> dict[str, Any]:
        region = Region(model, Streams(1, replication), Recorder())
        region.start()
        region.env.run(until=region.horizon)
        return region.rec.events()

    first = Region(model, Streams(1, 0), Recorder())
    shared = first.env
    second = Region(model, Streams(1, 1), Recorder(), env=shared)
    first.start()
    second.start()
    shared.run(until=first.horizon)
    for region, replication in ((first, 0), (second, 1)):
        together, solo = region.rec.events(), alone(replication)
        assert len(solo["time"]) > 1000
        assert all(np.array_equal(together[name], solo[name]) for name in solo)
    with pytest.raises(ValueError, match="shared environment's clock"):
        Region(model, Streams(1, 2), Recorder(), env=shared)


# --- freeing a run, the collector ----------------------------------------------------------


def test_a_closed_region_is_freed_by_reference_counting() -> None:
    model = build(short(haarlem_raw(), end_year=2019, warmup=1))
    was = gc.isenabled()
    gc.disable()
    try:
        region = Region(model, Streams(1, 0), Recorder())
        region.start()
        region.env.run(until=region.horizon)
        assert region.env.live  # clients still in shelters and places at the end
        region.close()
        ref = weakref.ref(region)
        del region
        assert ref() is None
    finally:
        if was:
            gc.enable()


def test_the_collector_is_restored_even_on_error(monkeypatch: pytest.MonkeyPatch) -> None:
    model = build(minimal_raw())

    def broken(self: Region) -> None:
        raise RuntimeError("broken")

    monkeypatch.setattr(sim.replication.replicate.Region, "start", broken)
    assert gc.isenabled()
    with pytest.raises(RuntimeError):
        run_replication(model, 1, 0)
    assert gc.isenabled()
    gc.disable()
    try:
        with pytest.raises(RuntimeError):
            run_replication(model, 1, 0)
        assert not gc.isenabled()  # a caller's choice is left alone
    finally:
        gc.enable()


def test_results_do_not_depend_on_the_collector() -> None:
    model = build(short(haarlem_raw(), end_year=2020, warmup=1))
    held = run_replication(model, 5, 1, events=True)
    gc.disable()
    try:
        off = run_replication(model, 5, 1, events=True)
    finally:
        gc.enable()
    assert held.events is not None and off.events is not None
    pd.testing.assert_frame_equal(held.events, off.events)
    pd.testing.assert_frame_equal(held.annual, off.annual)
    pd.testing.assert_frame_equal(held.daily, off.daily)
    assert {"set-up", "event loop", "indicators", "teardown", "collector"} <= set(held.cpu)


def test_at_most_one_simpy_event_per_client_visit() -> None:
    model = build(short(haarlem_raw(), end_year=2021, warmup=1))
    rep = run_replication(model, 2, 0, events=True)
    assert rep.events is not None
    assert rep.n_events <= len(rep.events)  # visits: rows of the event log
