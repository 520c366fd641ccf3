"""Does a client visit cost more when more clients are alive at once?

Three ways to simulate the same volume, each run in a fresh process, the runs alternating:

- ``one after another``: K baseline replications (replications r..r+K-1), each alone;
- ``interleaved``: the same K replications in one SimPy environment, their events
  interleaved. Each region runs as it would alone (the same visits at the same times;
  ``tests/test_speed_equivalence.py``), so the model does exactly the same work, with
  queues as long as at the baseline volume; only K times as many clients (their processes,
  events and variates) are alive at once;
- ``K times the volume``: one region with ``scripts/benchmark.py``'s overrides.

The CPU seconds of the event loop per client visit of the first two differ only by what
holding K times the live state costs: memory the processor's caches no longer hold, not the
model's algorithms. Compare the third with both.

Usage: python scripts/benchmark_locality.py [--regions K] [--runs N] [--model FILE]
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing
import statistics
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from benchmark import ROOT, scaled

from sim.engine.log import Recorder
from sim.engine.streams import Streams
from sim.model.files import load, resolve
from sim.replication.journey import Region
from sim.replication.replicate import collector_held

SEED = 1
MODES = ("one after another", "interleaved", "K times the volume")


def event_loop(mode: str, model_path: str, k: int, first: int) -> tuple[float, int]:
    """In a fresh process: CPU seconds of the event loop and client visits of one run of
    ``mode`` (after one untimed baseline replication that warms imports and caches), the
    garbage collector held off as in a replication."""
    path, seconds, visits = Path(model_path), 0.0, 0
    warm_up = [Region(load(path), Streams(SEED, 999), Recorder())]
    for i, group in enumerate(itertools.chain([warm_up], _runs(mode, path, k, first))):
        with collector_held():  # as in a replication
            for region in group:
                region.start()
            started = time.process_time()
            group[0].env.run(until=group[0].horizon)
            if i > 0:
                seconds += time.process_time() - started
                visits += sum(len(region.rec.events()["time"]) for region in group)
            for region in group:
                region.close()
    return seconds, visits


def _runs(mode: str, path: Path, k: int, first: int) -> Iterator[list[Region]]:
    """The regions of each event loop of ``mode``, made when it is due."""
    if mode == MODES[2]:
        yield [Region(load(path, scaled(resolve(path), k)), Streams(SEED, first), Recorder())]
        return
    model = load(path)
    if mode == MODES[0]:
        for i in range(k):
            yield [Region(model, Streams(SEED, first + i), Recorder())]
        return
    host = Region(model, Streams(SEED, first), Recorder())
    yield [host, *(Region(model, Streams(SEED, first + i), Recorder(), env=host.env)
                   for i in range(1, k))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--regions", type=int, default=10, help="K (default 10)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each mode (default 3)")
    parser.add_argument("--model", default=str(ROOT / "models" / "haarlem.toml"))
    args = parser.parse_args()
    k, spawn = args.regions, multiprocessing.get_context("spawn")
    per_visit: dict[str, list[float]] = {mode: [] for mode in MODES}
    visits: dict[str, int] = {}
    for run in range(args.runs):
        for mode in MODES if run % 2 == 0 else MODES[::-1]:
            with ProcessPoolExecutor(1, mp_context=spawn) as pool:
                seconds, visits[mode] = pool.submit(event_loop, mode, args.model, k, 10 * run).result()
            per_visit[mode].append(1e6 * seconds / visits[mode])
    base = statistics.median(per_visit[MODES[0]])
    print(f"µs of event loop per client visit, K = {k}, {args.runs} runs: median (min-max), "
          "and the median against one after another")
    for mode in MODES:
        values = per_visit[mode]
        print(f"  {mode.replace('K', str(k)):28s} {statistics.median(values):5.2f} "
              f"({min(values):.2f}-{max(values):.2f})  x{statistics.median(values) / base:.2f}"
              f"   ({visits[mode]:,} visits in the last run)")


if __name__ == "__main__":
    main()
