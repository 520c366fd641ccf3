"""Speed of the engine: events per second against the bare SimPy loop, seconds per replication.

Usage: python scripts/benchmark.py [--replications N] [--model FILE]

Times are CPU seconds of this process (time.process_time), which other load on the machine
disturbs less than wall-clock time. The machines are shared and noisy all the same: compare
the ratios printed by one run, not absolute figures across runs.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from sim.cli import default_model
from sim.engine import run_record
from sim.journey import Region
from sim.metrics import derive
from sim.modelfile import load
from sim.recording import BCT, Recorder
from sim.streams import Streams


def bare_loop(n_events: int, n_processes: int = 1000) -> float:
    """Events per second of SimPy processes that only wait on timeouts."""
    env = simpy.Environment()
    delays = np.random.default_rng(0).exponential(1.0, size=n_events).tolist()
    per_process = n_events // n_processes

    def proc(offset: int) -> Generator[Any, Any, None]:
        for i in range(per_process):
            yield env.timeout(delays[offset + i])

    for p in range(n_processes):
        env.process(proc(p * per_process))
    started = time.process_time()
    env.run()
    elapsed = time.process_time() - started
    return next(env._eid) / elapsed  # private counter: events scheduled


def one_replication(model_path: str, replication: int) -> dict[str, float]:
    """Time the phases of one baseline replication."""
    model = load(model_path)
    t0 = time.process_time()
    recorder = Recorder()
    region = Region(model, Streams(1, replication), recorder)
    region.start()
    t1 = time.process_time()
    region.env.run(until=region.horizon)
    t2 = time.process_time()
    daily, _ = derive(run_record(region))
    daily.table(model.simulation.start)
    t3 = time.process_time()
    events = next(region.env._eid)
    log = recorder.events()
    direct = np.count_nonzero(np.frombuffer(recorder.client_group, np.int16) >= len(region.groups))
    processes = np.count_nonzero(log["dst"] == BCT) + direct  # one per episode
    return {"setup": t1 - t0, "loop": t2 - t1, "derive": t3 - t2, "total": t3 - t0,
            "events": events, "events_per_s": events / (t2 - t1), "processes": float(processes)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--replications", type=int, default=10)
    parser.add_argument("--model", default=str(default_model()),
                        help="default: the calibrated baseline, as `opvang run` uses")
    args = parser.parse_args()

    one_replication(args.model, 999)  # warm imports and caches
    runs: list[dict[str, float]] = []
    bare_runs: list[float] = []
    alike_runs: list[float] = []
    for r in range(args.replications):  # interleaved, so that load changes hit both alike
        runs.append(one_replication(args.model, r))
        bare_runs.append(bare_loop(int(runs[-1]["events"])))
        alike_runs.append(bare_loop(int(runs[-1]["events"]), int(runs[-1]["processes"])))
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    bare = statistics.median(bare_runs)
    alike = statistics.median(alike_runs)
    print(f"baseline replication ({args.model}, {args.replications} replications, medians)")
    print(f"  seconds per replication : {med['total']:.3f} "
          f"(setup {med['setup']:.3f}, event loop {med['loop']:.3f}, "
          f"indicators {med['derive']:.3f})")
    print(f"  SimPy events            : {med['events']:.0f}")
    print(f"  model events per second : {med['events_per_s']:,.0f}")
    print(f"  bare SimPy loop         : {bare:,.0f} events per second (1,000 processes)")
    print(f"  model / bare            : {med['events_per_s'] / bare:.2f}")
    print(f"  bare loop, {med['processes']:,.0f} processes as the model starts: "
          f"{alike:,.0f} events per second; model / that: {med['events_per_s'] / alike:.2f}")


if __name__ == "__main__":
    main()
