"""Command line: ``opvang run``, ``check``, ``sweep``, ``summary``, ``calibrate`` (also
``python -m sim``).

Exit codes: 0 done, 2 bad input (one line names the file or option and the key; nothing is
written), 1 failure. SIGTERM stops a command as Ctrl-C does.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import importlib.metadata
import os
import shlex
import signal
import sys
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

from sim.backends import BackendError
from sim.calibration.command import add_parser as add_calibrate_parser
from sim.compare import format_frame, intervals, paired_differences, per_replication
from sim.dataset import read_manifest
from sim.errors import InputError
from sim.experiment import read_experiment
from sim.folders import check_writable, claim, holder
from sim.limits import REPLICATIONS_MAX, SEED_MAX, WORKERS_MAX, YEAR_MAX
from sim.model import Model
from sim.modelfile import load, model_hash, resolve
from sim.options import Parser, integer
from sim.output import check_destination, write_run
from sim.posterior import check_draws, read_posterior
from sim.results import load as load_results
from sim.summary import against_targets, format_table, key_indicators
from sim.sweep import SweepStoppedError, sweep
from sim.targets import load_targets
from sim.tasks import Variant

BASE_MODEL = Path("models/haarlem.toml")
FITTED_MODEL = Path("calibration/fitted/haarlem.toml")
TARGETS = Path("calibration/targets.csv")


def default_model() -> Path:
    """The calibrated baseline when a fit exists, else the model as the sources describe it."""
    return FITTED_MODEL if FITTED_MODEL.exists() else BASE_MODEL


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    parser = _parser()
    argv = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(argv)
    args.argv = argv
    args.written = None
    with _sigterm_as_interrupt():
        try:
            code = int(args.func(args))
            sys.stdout.flush()  # a closed pipe shows here, not at exit
            return code
        except BrokenPipeError:
            _stdout_closed(args.written)
            return 0
        except InputError as err:
            print(f"error: {' '.join(str(err).split())}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("interrupted; nothing was written", file=sys.stderr)
            return 1
        except Exception:
            traceback.print_exc()
            return 1


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM (``kill PID``) raises KeyboardInterrupt, so that it stops cleanly as Ctrl-C does."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers belong to the main thread
        return
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


def _terminate(signum: int, frame: FrameType | None) -> None:
    """The SIGTERM handler: a KeyboardInterrupt where the main thread is."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # one clean stop; more signals do not cut it short
    raise KeyboardInterrupt("SIGTERM")


def _stdout_closed(written: Path | None) -> None:
    """The reader of stdout went away (``opvang run | head``): stop printing, quietly."""
    with contextlib.suppress(OSError, ValueError):  # later writes and the flush at exit go nowhere
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    if written is not None:
        print(f"stdout was closed; the results are written to {written}", file=sys.stderr)


def _parser() -> argparse.ArgumentParser:
    parser = Parser(prog="opvang", description=__doc__)
    parser.add_argument("--version", action="version", version=f"opvang {_version()}")
    sub = parser.add_subparsers(required=True, dest="command")

    p = sub.add_parser("run", help="run a model and print its summary beside the observed counts")
    p.add_argument("model", nargs="?", type=Path, default=None,
                   help=f"model file (default {FITTED_MODEL}, the calibrated baseline, "
                        f"or {BASE_MODEL} when there is no fit)")
    p.add_argument("--replications", "-n", type=integer(1, REPLICATIONS_MAX), default=5)
    p.add_argument("--seed", type=integer(0, SEED_MAX), default=20190101)
    p.add_argument("--until", type=integer(1, YEAR_MAX), default=None, metavar="YEAR",
                   help=f"last simulated year, up to {YEAR_MAX} (default: the model's end_year)")
    p.add_argument("--out", type=Path, default=None,
                   help="results folder (default results/run-MODEL-TIMESTAMP); must not exist")
    p.add_argument("--targets", type=Path, default=None,
                   help=f"observed targets (default: the {TARGETS} of the model's project, "
                        "found from the model file's folder upward, or in the current folder)")
    p.add_argument("--events", action="store_true", help="also write the event log")
    p.add_argument("--posterior", type=Path, default=None, metavar="FILE",
                   help="draw each replication's parameters from a posterior file "
                        "(e.g. calibration/fitted/haarlem_posterior.parquet)")
    p.add_argument("--workers", "-j", type=integer(1, WORKERS_MAX), default=1,
                   help="local worker processes (default 1: in this process)")
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
    where.add_argument("--workers", "-j", type=integer(1, WORKERS_MAX), default=None,
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


def _version() -> str:
    try:
        return importlib.metadata.version("opvang-sim")
    except importlib.metadata.PackageNotFoundError:
        return "unknown (not installed)"


def _years(text: str) -> tuple[int, int]:
    first, _, last = text.partition("-")
    year = integer(1, YEAR_MAX)
    try:
        years = (year(first), year(last or first))
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected YEAR or FIRST-LAST (years up to {YEAR_MAX}), "
                                         "e.g. 2021-2025") from None
    if years[0] > years[1]:
        raise argparse.ArgumentTypeError("expected FIRST <= LAST")
    return years


def _cmd_check(args: argparse.Namespace) -> int:
    model = load(args.file)
    print(f"{args.file}: ok ({len(model.facilities)} facilities, {len(model.groups)} groups, "
          f"{len(model.channels)} channels; hash {model_hash(model)})")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    """Check everything, write every replication to disk as it finishes, then print."""
    model_file = args.model or default_model()
    model = _until(load(model_file), args.until)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = args.out or Path("results") / f"run-{model.name}-{stamp}"
    check_writable(out)
    check_destination(out)
    targets_path = args.targets or find_targets(model_file)
    targets = None if targets_path is None else (_shown(targets_path), load_targets(targets_path))
    parameter_sets, posterior = _posterior_sets(args, model_file, model)
    command = " ".join(shlex.quote(a) for a in ["opvang", *args.argv])
    with claim(out):
        results = write_run(out, model, args.replications, args.seed, events=args.events,
                            parameter_sets=parameter_sets, workers=args.workers,
                            progress=not args.quiet, command=command, posterior=posterior)
    args.written = out
    annual = results.tables["annual"]
    print(f"\n{model.name}: {args.replications} replications, seed {args.seed}, "
          f"{results.seconds:.1f} s; model hash {results.info['model_hash']}")
    print("median, 2.5-97.5 % quantiles and mean over replications\n")
    if targets is not None:
        print(f"observed ({targets[0]}) beside simulated, same definitions:")
        print(format_table(against_targets(annual, targets[1])))
        print()
    print("main indicators:")
    print(format_table(key_indicators(annual)))
    print(f"\nresults written to {out}")
    return 0


def _until(model: Model, until: int | None) -> Model:
    """The model simulated up to ``--until`` (checked against its start year)."""
    if until is None:
        return model
    start = model.simulation.start.year
    if until < start:
        raise InputError("--until", "", f"expected a year from {start} to {YEAR_MAX}, got {until}")
    return dataclasses.replace(model, simulation=dataclasses.replace(model.simulation,
                                                                     end_year=until))


def find_targets(model_file: Path) -> Path | None:
    """The project's ``calibration/targets.csv``: the first found from the model file's folder
    upward (``calibration/fitted/haarlem.toml`` and ``models/haarlem.toml`` both find the
    project's), else in the current folder; None when there is none."""
    folder = model_file.resolve().parent
    for candidate in [folder, *folder.parents, Path.cwd()]:
        if (candidate / TARGETS).is_file():
            return candidate / TARGETS
    return None


def _shown(path: Path) -> str:
    """A path relative to the current folder when it is below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _posterior_sets(args: argparse.Namespace, model_file: Path,
                    model: Model) -> tuple[list[Variant] | None, dict[str, Any] | None]:
    """With ``--posterior``: each replication's model (built where it runs) and the record of
    the draws; every drawn row is checked first."""
    if args.posterior is None:
        return None, None
    posterior = read_posterior(args.posterior)
    base = resolve(model_file)
    until = {"simulation.end_year": model.simulation.end_year}
    check_draws(posterior, base, str(model_file), args.seed, args.replications, {model.name: until})
    rows = [posterior.draw(args.seed, r) for r in range(args.replications)]
    sets = [Variant(base, str(model_file), posterior.overrides(row), until) for row in rows]
    return sets, {"file": str(args.posterior), "sha256": posterior.sha256, "rows": rows}


def _cmd_sweep(args: argparse.Namespace) -> int:
    exp = read_experiment(args.experiment)
    command = " ".join(shlex.quote(a) for a in ["opvang", *args.argv])
    try:
        report = sweep(exp, args.out, workers=args.workers, scheduler=args.scheduler,
                       progress=not args.quiet, command=command)
    except SweepStoppedError as stop:
        if not isinstance(stop.__cause__, KeyboardInterrupt | BackendError):
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
        status = manifest["status"]
        if status == "running" and holder(args.results) is None:
            status = "stopped before it finished (killed)"
        done = len(annual[["scenario", "replication"]].drop_duplicates())
        print(f"warning: the sweep is {status}: {done} of {manifest.get('tasks')} tasks "
              "are in; run `opvang sweep` again to finish it")
    print(f"yearly means over {years[0]}-{years[1]}, described over the replications: median and "
          "2.5-97.5 % quantiles (the figures to quote), and the mean with its 95 % t interval "
          "(the precision of the estimate)\n")
    print(format_frame(intervals(values)))
    if len(scenarios) > 1:
        print(f"\npaired differences against {baseline} (scenario minus {baseline}, replication by "
              "replication: common random numbers; n: the replications each interval used; "
              "n_for_10pct: the replications with which the interval's half-width would be 10 % of "
              "the difference)\n")
        print(format_frame(paired_differences(values, baseline)))
    return 0
