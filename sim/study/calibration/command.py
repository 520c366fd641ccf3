"""``opvang calibrate``: fit the free parameters and write the fit with its checks."""

from __future__ import annotations

import argparse
import os
import shlex
from pathlib import Path

import pandas as pd

from sim.batch.folders import check_writable, claim
from sim.input.errors import InputError
from sim.input.limits import CHECK_DRAWS_MAX, GENERATIONS_MAX, PARTICLES_MAX, SEED_MAX, WORKERS_MAX
from sim.input.options import integer
from sim.study.calibration.abc import min_particles
from sim.study.calibration.components import load_components
from sim.study.calibration.fit import FitSettings, check_fit_destination, fit, write_fit
from sim.study.calibration.parameters import load_priors
from sim.study.summary import format_table

FULL = {"particles": 300, "generations": 6, "check_draws": 200}
QUICK = {"particles": 50, "generations": 2, "check_draws": 30}


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the ``calibrate`` subcommand."""
    p = sub.add_parser("calibrate", help="fit the free parameters to calibration/targets.csv")
    p.add_argument("--model", type=Path, default=Path("models/haarlem.toml"))
    p.add_argument("--priors", type=Path, default=Path("calibration/priors.toml"))
    p.add_argument("--targets", type=Path, default=Path("calibration/targets.csv"))
    p.add_argument("--components", type=Path, default=Path("calibration/components.toml"))
    p.add_argument("--out", type=Path, default=Path("calibration/fitted"))
    p.add_argument("--quick", action="store_true",
                   help=f"a small fit for CI ({QUICK['particles']} particles, "
                        f"{QUICK['generations']} generations)")
    p.add_argument("--particles", type=integer(1, PARTICLES_MAX), default=None,
                   help=f"particles per generation (default {FULL['particles']})")
    p.add_argument("--generations", type=integer(1, GENERATIONS_MAX), default=None,
                   help=f"generations (default {FULL['generations']})")
    p.add_argument("--check-draws", type=integer(1, CHECK_DRAWS_MAX), default=None,
                   help=f"simulations of the predictive check (default {FULL['check_draws']})")
    p.add_argument("--seed", type=integer(0, SEED_MAX), default=20190101)
    p.add_argument("--workers", type=integer(1, WORKERS_MAX), default=os.cpu_count() or 1,
                   help="local worker processes (default: one per core)")
    p.add_argument("--holdout-year", type=integer(1900, 2200), action="append", default=[],
                   metavar="YEAR", help="leave this year's targets out of the fit and write a "
                   "validation report of how the fit predicts them (validation_YEAR.csv, .png)")
    p.add_argument("--replace", action="store_true", help="replace an existing fit in --out")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=run_calibrate)


def run_calibrate(args: argparse.Namespace) -> int:
    """Fit, write, and print the predictive check, coverage and identifiability."""
    size = QUICK if args.quick else FULL
    settings = FitSettings(
        model=args.model, priors=args.priors, targets=args.targets,
        components=args.components,
        particles=size["particles"] if args.particles is None else args.particles,
        generations=size["generations"] if args.generations is None else args.generations,
        check_draws=size["check_draws"] if args.check_draws is None else args.check_draws,
        seed=args.seed, workers=args.workers, holdout_years=tuple(args.holdout_year))
    check_writable(args.out)
    check_fit_destination(args.out, args.replace)  # before the fit, not after it
    priors = load_priors(settings.priors, settings.model)  # bad input: refused before any claim
    held = load_components(settings.targets, settings.components, settings.holdout_years)
    for year in settings.holdout_years:
        if year not in set(load_components(settings.targets, settings.components).table["year"]):
            raise InputError("--holdout-year", "", f"no target rows in {year}")
    if held.table.empty:
        raise InputError("--holdout-year", "", "leaves no target rows to fit")
    if settings.particles < min_particles(len(priors.names)):
        raise InputError("--particles", "", f"expected at least {min_particles(len(priors.names))} "
                         f"for {len(priors.names)} free parameters, got {settings.particles}")
    command = " ".join(shlex.quote(a) for a in ["opvang", *args.argv])
    with claim(args.out):  # a second fit into the same folder is refused, not raced
        check_fit_destination(args.out, args.replace)
        result = fit(settings, progress=not args.quiet)
        summary = write_fit(result, args.out, args.replace, command, progress=not args.quiet)
    check = pd.read_csv(args.out / "predictive_check.csv")
    ident = pd.read_csv(args.out / "identifiability.csv")
    print(f"\nfit: {summary['simulations']} simulations in {summary['seconds']:.0f} s, "
          f"{len(result.history)} generations, final tolerance {result.posterior.tolerance:.3g}")
    print("\nposterior predictive check (observed against simulated median and intervals):")
    print(format_table(check[["year", "metric", "group", "observed", "median", "lo50", "hi50",
                              "lo95", "hi95", "inside95", "weight"]]))
    cov, facts = summary["coverage95"], summary["facts_met"]
    print(f"\ncoverage: {cov['inside']} of {cov['of']} weighted targets inside their 95 % interval; "
          f"facts met (median at or above the bound): {facts['median_at_or_above']} of {facts['of']}")
    if settings.holdout_years:
        val = summary["validation95"]
        print(f"validation: {val['inside']} of {val['of']} held-out targets of "
              f"{', '.join(map(str, settings.holdout_years))} inside their 95 % predictive interval "
              "(validation_YEAR.csv)")
    print("\nidentifiability (95 % posterior width over prior width, unit scale):")
    print(ident[["parameter", "posterior_median", "posterior_lo95", "posterior_hi95",
                 "width_ratio", "constrained"]].to_string(index=False, float_format="%.3g"))
    print(f"\nwritten to {args.out}")
    return 0
