"""The bed-night balance of a capacity change (issue 19): the bed-nights a scenario removes,
and where the nights of the people who would have slept in them went, paired replication by
replication against the baseline over the calibration posterior.

Usage: python scripts/bed_night_balance.py [EXPERIMENT] [--years 2025-2030] [--replications N]

Default: experiments/wilhelminastraat_cut.toml (Wilhelminastraat 30 -> 15 places from 2025).
The sweep is run (or read, when its results are complete) under results/NAME (or
results/NAME-rN with --replications). Printed: the median over replications of each figure a
year; ``sum_of_all_changes`` is zero (every night of every person is in one part of
person_nights, and the scenario sees the same people), and ``share_both`` is the share of the
removed bed-nights that are nights without a bed or after leaving.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.study.balance import balance, paired_parts
from sim.study.experiment import read_experiment
from sim.study.results import load
from sim.study.sweep import run_experiment

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("experiment", nargs="?",
                        default=str(ROOT / "experiments" / "wilhelminastraat_cut.toml"))
    parser.add_argument("--years", default="2025-2030")
    parser.add_argument("--replications", type=int)
    args = parser.parse_args()
    exp = read_experiment(args.experiment)
    suffix = f"-r{args.replications}" if args.replications else ""
    out = ROOT / "results" / f"{exp.name}{suffix}"
    run_experiment(args.experiment, out, replications=args.replications)
    first, last = (int(y) for y in args.years.split("-"))
    annual = load(out, "annual")
    table = balance(paired_parts(annual, exp.baseline, (first, last)))
    print(f"{exp.name}: paired against {exp.baseline}, median over {annual['replication'].nunique()} "
          f"replications of the yearly mean {first}-{last} (person-nights a year)")
    print(table.round(3).to_string())


if __name__ == "__main__":
    main()
