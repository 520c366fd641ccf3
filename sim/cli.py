"""Command line: ``opvang run``, ``check``, ``sweep``, ``summary`` (also ``python -m sim``).

Exit codes: 0 done, 2 bad input (a message names the file and the key), 1 failure.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import shlex
import sys
import traceback
from pathlib import Path

from sim.calibration.command import add_parser as add_calibrate_parser
from sim.compare import format_frame, intervals, paired_differences, per_replication
from sim.dataset import read_manifest
from sim.errors import InputError
from sim.experiment import read_experiment
from sim.modelfile import load, model_hash
from sim.output import check_destination, write_results
from sim.posterior import read_posterior
from sim.results import load as load_results
from sim.runner import run
from sim.summary import against_targets, format_table, key_indicators
from sim.sweep import SweepStoppedError, sweep
from sim.targets import load_targets

BASE_MODEL = Path("models/haarlem.toml")
FITTED_MODEL = Path("calibration/fitted/haarlem.toml")


def default_model() -> Path:
    """The calibrated baseline when a fit exists, else the model as the sources describe it."""
    return FITTED_MODEL if FITTED_MODEL.exists() else BASE_MODEL


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    parser = _parser()
    argv = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(argv)
    args.argv = argv
    try:
        return int(args.func(args))
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; nothing was written", file=sys.stderr)
        return 1
    except Exception:
        traceback.print_exc()
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="opvang", description=__doc__)
    sub = parser.add_subparsers(required=True, dest="command")

    p = sub.add_parser("run", help="run a model and print its summary beside the observed counts")
    p.add_argument("model", nargs="?", type=Path, default=None,
                   help=f"model file (default {FITTED_MODEL}, the calibrated baseline, "
                        f"or {BASE_MODEL} when there is no fit)")
    p.add_argument("--replications", "-n", type=_positive_int, default=5)
    p.add_argument("--seed", type=int, default=20190101)
    p.add_argument("--until", type=int, default=None, metavar="YEAR",
                   help="last simulated year (default: the model's end_year)")
    p.add_argument("--out", type=Path, default=None,
                   help="results folder (default results/run-MODEL-TIMESTAMP); must not exist")
    p.add_argument("--targets", type=Path, default=None,
                   help="observed targets (default calibration/targets.csv beside the model)")
    p.add_argument("--events", action="store_true", help="also write the event log")
    p.add_argument("--posterior", type=Path, default=None, metavar="FILE",
                   help="draw each replication's parameters from a posterior file "
                        "(e.g. calibration/fitted/haarlem_posterior.parquet)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_run)

    add_calibrate_parser(sub)

    p = sub.add_parser("check", help="validate a model file without running it")
    p.add_argument("file", type=Path)
    p.set_defaults(func=_cmd_check)

    p = sub.add_parser("sweep", help="run every scenario and replication of an experiment file; "
                       "an interrupted sweep resumes where it stopped")
    p.add_argument("experiment", type=Path, help="experiment file, e.g. experiments/NAME.toml")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", "-j", type=_positive_int, default=None,
                       help="local worker processes (default: one per core)")
    where.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="run on a Dask distributed cluster, e.g. tcp://host:8786")
    p.add_argument("--out", type=Path, default=None, help="results folder (default results/NAME)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_sweep)

    p = sub.add_parser("summary", help="main indicators per scenario of a sweep, with 95 %% "
                       "intervals and paired differences against the baseline")
    p.add_argument("results", type=Path, help="results folder of a sweep, e.g. results/NAME")
    p.add_argument("--years", type=_years, default=None, metavar="FIRST-LAST",
                   help="years to average over (default: all simulated years)")
    p.add_argument("--baseline", default=None, help="scenario to compare with (default: the "
                   "experiment's baseline)")
    p.set_defaults(func=_cmd_summary)
    return parser


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("expected an integer >= 1")
    return value


def _years(text: str) -> tuple[int, int]:
    first, _, last = text.partition("-")
    try:
        years = (int(first), int(last or first))
    except ValueError:
        raise argparse.ArgumentTypeError("expected YEAR or FIRST-LAST, e.g. 2021-2025") from None
    if years[0] > years[1]:
        raise argparse.ArgumentTypeError("expected FIRST <= LAST")
    return years


def _cmd_check(args: argparse.Namespace) -> int:
    model = load(args.file)
    print(f"{args.file}: ok ({len(model.facilities)} facilities, {len(model.groups)} groups, "
          f"{len(model.channels)} channels; hash {model_hash(model)})")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    args.model = args.model or default_model()
    model = load(args.model)
    if args.until is not None:
        if args.until < model.simulation.start.year:
            raise InputError("--until", "", f"expected a year >= {model.simulation.start.year}")
        model = dataclasses.replace(
            model, simulation=dataclasses.replace(model.simulation, end_year=args.until))
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = args.out or Path("results") / f"run-{model.name}-{stamp}"
    check_destination(out)
    targets_path = args.targets or args.model.resolve().parent.parent / "calibration/targets.csv"
    targets = load_targets(targets_path) if args.targets or targets_path.exists() else None

    parameter_sets = None
    if args.posterior is not None:
        posterior = read_posterior(args.posterior)
        until = {"simulation.end_year": model.simulation.end_year}
        parameter_sets = [load(args.model, {**posterior.overrides(posterior.draw(args.seed, r)),
                                            **until})
                          for r in range(args.replications)]
    results = run(model, args.replications, args.seed, events=args.events,
                  progress=not args.quiet, parameter_sets=parameter_sets)
    if args.posterior is not None:
        results.info["posterior"] = {
            "file": str(args.posterior), "sha256": posterior.sha256,
            "rows": [posterior.draw(args.seed, r) for r in range(args.replications)]}
    annual = results.tables["annual"]
    print(f"\n{model.name}: {args.replications} replications, seed {args.seed}, "
          f"{results.seconds:.1f} s; model hash {results.info['model_hash']}")
    print("mean and 2.5-97.5 % range over replications\n")
    if targets is not None:
        print(f"observed ({targets_path}) beside simulated, same definitions:")
        print(format_table(against_targets(annual, targets)))
        print()
    print("main indicators:")
    print(format_table(key_indicators(annual)))
    command = " ".join(shlex.quote(a) for a in ["opvang", *args.argv])
    write_results(results, out, command)
    print(f"\nresults written to {out}")
    return 0


def _cmd_sweep(args: argparse.Namespace) -> int:
    exp = read_experiment(args.experiment)
    command = " ".join(shlex.quote(a) for a in ["opvang", *args.argv])
    try:
        report = sweep(exp, args.out, workers=args.workers, scheduler=args.scheduler,
                       progress=not args.quiet, command=command)
    except SweepStoppedError as stop:
        if not isinstance(stop.__cause__, KeyboardInterrupt):
            traceback.print_exception(stop.__cause__)
        print(f"error: {stop}", file=sys.stderr)
        return 1
    print(f"{exp.name}: {report.total} tasks in {report.out} ({report.computed} computed now, "
          f"{report.already} already there) on {report.backend}, {report.seconds:.1f} s")
    print(f"summary: opvang summary {shlex.quote(str(report.out))}")
    return 0


def _cmd_summary(args: argparse.Namespace) -> int:
    annual = load_results(args.results, "annual")
    manifest = read_manifest(args.results) or {}
    scenarios = list(dict.fromkeys(annual["scenario"]))
    baseline = args.baseline or manifest.get("baseline") or scenarios[0]
    if baseline not in scenarios:
        raise InputError("--baseline", "", f"expected one of the scenarios: {', '.join(scenarios)}")
    years = args.years or (int(annual["year"].min()), int(annual["year"].max()))
    values = per_replication(annual, years)
    if values.empty:
        raise InputError("--years", "", f"no results in {years[0]}-{years[1]}")
    name = manifest.get("experiment") or args.results.name
    reps = annual.groupby("scenario", observed=True)["replication"].nunique()
    count = str(reps.min()) if reps.min() == reps.max() else f"{reps.min()}-{reps.max()}"
    plural = "s" if len(scenarios) > 1 else ""
    print(f"experiment {name} ({args.results}): {len(scenarios)} scenario{plural} x {count} replications, "
          f"seed {manifest.get('seeds', {}).get('seed', ', '.join(map(str, annual['seed'].unique())))}")
    if manifest.get("status", "complete") != "complete":
        done = len(annual[["scenario", "replication"]].drop_duplicates())
        print(f"warning: the sweep is {manifest['status']}: {done} of {manifest.get('tasks')} tasks "
              "are in; run `opvang sweep` again to finish it")
    print(f"yearly means over {years[0]}-{years[1]}; mean and 95 % confidence interval (t) over "
          "replications\n")
    print(format_frame(intervals(values)))
    if len(scenarios) > 1:
        print(f"\npaired differences against {baseline} (scenario minus {baseline}, replication by "
              "replication: common random numbers; n: the replications each interval used; "
              "n_for_10pct: the replications with which the interval's half-width would be 10 % of "
              "the difference)\n")
        print(format_frame(paired_differences(values, baseline)))
    return 0
