"""Speed of simulation optimisation (issue 22): one evaluation, evaluations a second on 2 workers,
the time to a selected mix, and the single-room question (5 scenarios x 100 posterior draws,
2019-2030, yearly table only, 2 workers) with and without early stopping, in bare-SimPy event
equivalents (wall seconds x the bare-SimPy events a second measured in the same run).

Usage: python scripts/benchmark_optimise.py [--workers 2] [--skip-question] [--precision GOAL ...]

The issue's reference: the single-room question took 174 s on a 2-core machine running bare
SimPy at about 263 k events a second, i.e. about 46 M bare-event equivalents. Timings on the
shared machines vary up to 3x from day to day: compare the equivalents, not the seconds.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bare_simpy import events_per_second  # a script beside this one

from sim.batch.tasks import run_task
from sim.study.experiment import read_experiment, tasks
from sim.study.optimise.run import run_optimise
from sim.study.precision import Precision, parse_goal
from sim.study.sweep import sweep

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "experiments" / "optimise_example.toml"
QUESTION = ROOT / "experiments" / "single_rooms_5x100.toml"
REFERENCE_EQUIVALENTS = 174 * 263_000  # the figure: 45.8 M
# The precision asked of the single-room question's paired differences (each scenario minus
# as_now, yearly means over 2025-2030, 95 % half-widths): the headline's 5 persons a year (the
# delta of notebook 10's selection) of people without a bed and of people sheltered, and
# EUR 100,000 a year of MO spending.
GOALS = ("people_without_a_bed:total=5", "people_sheltered:total=5",
         "cost_eur:maatschappelijke_opvang=100000")


def one_evaluation() -> tuple[float, int, int]:
    """CPU seconds and SimPy events of one task of the example, and its replications per candidate."""
    exp = read_experiment(EXAMPLE)
    cpu, events = 0.0, 0
    for task in tasks(exp):
        started = time.process_time()
        result = run_task(task)
        cpu += time.process_time() - started
        events += result.n_events
    return cpu / exp.replications, events // exp.replications, exp.replications


def search(workers: int) -> None:
    """The example search end to end: evaluations a second and the time to a selected mix."""
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        report = run_optimise(EXAMPLE, Path(folder) / "out", workers=workers, progress=False)
        wall = time.perf_counter() - started
    sims = report.selection["simulations"]
    n0 = report.selection["search"]["replications_per_candidate"]
    print(f"  example search on {workers} workers: {sims['total']} simulations ({sims['search']} in "
          f"the search = {sims['search'] // n0} evaluations of {n0} draws, "
          f"{sims['selection_and_comparison']} in the selection and the comparison) in {wall:.1f} s: "
          f"{sims['total'] / wall:.2f} simulations/s, {sims['total'] / n0 / wall:.2f} evaluations/s; "
          f"time to a selected mix {wall:.1f} s (guarantee holds: {report.selection['guarantee_holds']})")


def question(workers: int, goals: tuple[str, ...] | None) -> float:
    """The single-room question swept into a temporary folder; its wall seconds."""
    exp = read_experiment(QUESTION)
    precision = None if goals is None else Precision(tuple(parse_goal(g) for g in goals), 10, (2025, 2030))
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        report = sweep(exp, Path(folder) / "out", workers=workers, progress=False, precision=precision)
        wall = time.perf_counter() - started
    stop = report.stopped_early
    used = stop["after_replications"] if stop else exp.replications
    how = "without early stopping" if goals is None else f"with --precision {' '.join(goals)} --batch 10"
    print(f"  {how}: {report.computed} tasks ({used} of {exp.replications} draws per scenario) in "
          f"{wall:.1f} s")
    if stop:
        worst = {g: max(w.values()) for g, w in stop["halfwidths"].items()}
        print("    widest half-width at the stop: " + ", ".join(f"{g} {w:,.1f}" for g, w in worst.items()))
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-question", action="store_true", help="only the evaluation and search figures")
    parser.add_argument("--precision", nargs="+", default=list(GOALS), metavar="GOAL")
    args = parser.parse_args()
    bare = events_per_second()
    print(f"bare SimPy on this machine now: {bare:,.0f} events per CPU second (scripts/bare_simpy.py)")
    cpu, events, n0 = one_evaluation()
    print(f"one task of {EXAMPLE.name} (2019-2026 plus warm-up, over the posterior): {cpu:.3f} CPU s, "
          f"{events:,} SimPy events ({events / cpu / bare:.2f} x the bare rate); one evaluation "
          f"({n0} draws) {cpu * n0:.2f} CPU s")
    search(args.workers)
    if not args.skip_question:
        print(f"single-room question ({QUESTION.name}: 5 scenarios x 100 draws, 2019-2030, annual only) "
              f"on {args.workers} workers:")
        walls = {"full": question(args.workers, None), "early": question(args.workers, tuple(args.precision))}
        bare_after = events_per_second()
        rate = (bare + bare_after) / 2
        print(f"bare SimPy after the runs: {bare_after:,.0f} events per CPU second; mean {rate:,.0f}")
        for name, wall in walls.items():
            print(f"  {name}: {wall:.1f} s = {wall * rate / 1e6:.1f} M bare-event equivalents "
                  f"({wall * rate / REFERENCE_EQUIVALENTS:.2f} of the issue's 45.8 M)")


if __name__ == "__main__":
    main()
