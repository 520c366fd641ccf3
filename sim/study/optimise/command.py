"""``opvang optimise EXPERIMENT``: the command line of a search (parser and printout)."""

from __future__ import annotations

import argparse
import shlex
import sys
import traceback
from pathlib import Path
from typing import Any

from sim.batch.backends import BackendError
from sim.input.limits import WORKERS_MAX
from sim.input.options import integer
from sim.study.optimise.run import run_optimise
from sim.study.sweep import SweepStoppedError


def add_parser(sub: Any) -> None:
    """Add ``optimise`` to the command line's sub-commands."""
    p = sub.add_parser("optimise", help="search an experiment's [optimise] decision variables over "
                       "the posterior, then select the best mix with a stated guarantee; an "
                       "interrupted search resumes where it stopped")
    p.add_argument("experiment", type=Path, help="experiment file with an [optimise] table")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", "-j", type=integer(1, WORKERS_MAX), default=None,
                       help="local worker processes (default: one per core)")
    where.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="run on a Dask distributed cluster, e.g. tcp://host:8786")
    p.add_argument("--out", type=Path, default=None, help="results folder (default results/NAME-optimise)")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.set_defaults(func=command)


def command(args: argparse.Namespace) -> int:
    """Run the search and print what it selected."""
    line = " ".join(shlex.quote(a) for a in ["opvang", *args.argv])
    try:
        report = run_optimise(args.experiment, args.out, workers=args.workers, scheduler=args.scheduler,
                              progress=not args.quiet, command=line)
    except SweepStoppedError as stop:
        if not isinstance(stop.__cause__, KeyboardInterrupt | BackendError):
            traceback.print_exception(stop.__cause__)
        print(f"error: {stop}", file=sys.stderr)
        return 1
    sel = report.selection
    sims = sel["simulations"]
    print(f"{sel['experiment']}: {sel['search']['trials']} trials, {sel['search']['distinct_candidates']} "
          f"distinct candidates x {sel['search']['replications_per_candidate']} replications; "
          f"{sims['total']} simulations ({sims['search']} search, {sims['selection_and_comparison']} "
          f"selection and comparison), {report.computed} computed now on {report.backend}, "
          f"{report.seconds:.1f} s")
    if sel["selected"] is not None:
        print(f"\nselected: {sel['selected']}")
        for key, value in sel["overrides"].items():
            print(f"  {key} = {value!r}")
        print(f"\n{sel['guarantee']}\n")
        print(f"against {sel['baseline']} (selected minus baseline, per replication over "
              f"{sel['against_baseline_replications']}): median [2.5 %, 97.5 %]; mean [95 % interval]")
        for name, d in sel["against_baseline"].items():
            print(f"  {name}: {d['median']:,.1f} [{d['p2.5']:,.1f}, {d['p97.5']:,.1f}]; "
                  f"{d['mean']:,.1f} [{d['mean_lo95']:,.1f}, {d['mean_hi95']:,.1f}]")
    else:
        print(f"\n{sel['guarantee']}")
    print(f"\nwritten: {report.folder} (candidates.csv, front.csv, selection.json, front.png, "
          "selected_vs_baseline.png)")
    return 0
