"""Sweep throughput and the parent's memory over a long sweep.

Usage: python scripts/benchmark_sweep.py [--experiment FILE] [--replications N]
                                         [--long-experiment FILE] [--long-replications M]
                                         [--max-workers W]

1. Throughput: the experiment's scenarios x N replications, swept into a temporary folder
   with 1, 2, ..., W workers (W: os.cpu_count() by default). Prints tasks per second, tasks
   per second per core (worker), the speed-up against one worker, and tasks per CPU second
   of the workers (what a core gives when nothing else competes for it). One worker runs
   in this process; more use the local process pool (its start-up is included).
2. Memory: a long sweep (scenarios x M replications of the experiment, all W workers)
   while a thread samples the parent's resident memory (/proc/self/statm) and the Python
   heap of the parent (tracemalloc), printed at 10, 25, 50, 75 and 100 % of the tasks. Flat
   figures mean nothing accumulates in the parent: results stream to disk.

Wall-clock figures depend on what else runs on the machine: compare figures of one run.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import resource
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

from sim.study.experiment import Experiment, read_experiment
from sim.study.sweep import sweep

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bare_simpy import events_per_second  # a script beside this one

PAGE = os.sysconf("SC_PAGE_SIZE")


def throughput(exp: Experiment, workers: int) -> tuple[float, float]:
    """Tasks per wall-clock second and per CPU second of a sweep with ``workers`` workers."""
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        report = sweep(exp, Path(tmp) / exp.name, workers=workers, progress=False)
        return report.computed / (time.perf_counter() - started), report.computed / report.cpu_seconds


def rss_mib() -> float:
    """Resident memory of this process now."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * PAGE / 2**20


def memory_over_a_long_sweep(exp: Experiment, workers: int) -> None:
    """Sample the parent's memory while a long sweep runs, by share of tasks done."""
    total = exp.replications * len(exp.scenarios)
    samples: list[tuple[int, float, float]] = []
    stop = threading.Event()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / exp.name

        def sample() -> None:
            while not stop.is_set():
                done = len(list((out / exp.tables[0]).rglob("rep-*.parquet"))) if out.exists() else 0
                samples.append((done, rss_mib(), tracemalloc.get_traced_memory()[0] / 2**20))
                stop.wait(0.25)

        tracemalloc.start()
        thread = threading.Thread(target=sample, daemon=True)
        thread.start()
        started = time.perf_counter()
        sweep(exp, out, workers=workers, progress=False)
        seconds = time.perf_counter() - started
        stop.set()
        thread.join()
        samples.append((total, rss_mib(), tracemalloc.get_traced_memory()[0] / 2**20))
        peak_heap = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    print(f"\nparent memory over a long sweep: {total} tasks ({len(exp.scenarios)} scenarios x "
          f"{exp.replications} replications, horizon {exp.horizon or 'of the model'}), "
          f"{workers} workers, {seconds:.0f} s")
    print(f"  {'tasks done':>12} {'resident MiB':>13} {'Python heap MiB':>16}")
    for share in (0.10, 0.25, 0.50, 0.75, 1.00):
        done, rss, heap = next(s for s in samples if s[0] >= share * total)
        print(f"  {f'{done} ({share:.0%})':>12} {rss:>13.1f} {heap:>16.2f}")
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  peak resident (whole script): {peak_rss:.1f} MiB; peak Python heap during the sweep: "
          f"{peak_heap:.2f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--experiment", default="experiments/velserpoort_fewer_places.toml")
    parser.add_argument("--replications", type=int, default=None,
                        help="replications per scenario for the throughput runs (default: the "
                             "experiment's)")
    parser.add_argument("--long-replications", type=int, default=250,
                        help="replications per scenario of the long sweep (memory)")
    parser.add_argument("--long-experiment", default="experiments/smoke.toml",
                        help="experiment of the long sweep (default: a short horizon, many tasks)")
    parser.add_argument("--max-workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()

    exp = read_experiment(args.experiment)
    n = args.replications or exp.replications
    exp = dataclasses.replace(exp, replications=n)
    tasks = n * len(exp.scenarios)
    print(f"throughput: {args.experiment}, {tasks} tasks ({len(exp.scenarios)} scenarios x {n} "
          f"replications), horizon {exp.horizon or 'of the model'}; {os.cpu_count()} cores")
    print(f"  bare SimPy on this machine now: {events_per_second():,.0f} events per CPU second "
          f"(scripts/bare_simpy.py)")
    print(f"  {'workers':>7} {'tasks/s':>8} {'tasks/s per core':>17} {'speed-up':>9} {'efficiency':>11}"
          f" {'tasks per CPU s':>16}")
    one = 0.0
    for workers in range(1, args.max_workers + 1):
        rate, per_cpu = throughput(exp, workers)
        one = one or rate
        print(f"  {workers:>7} {rate:>8.2f} {rate / workers:>17.2f} {rate / one:>9.2f} "
              f"{rate / one / workers:>11.0%} {per_cpu:>16.2f}")

    long = read_experiment(args.long_experiment)
    memory_over_a_long_sweep(dataclasses.replace(long, replications=args.long_replications),
                             args.max_workers)


if __name__ == "__main__":
    main()
