"""Command line: ``opvang run``, ``check``, ``keys``, ``sweep``, ``summary``, ``sensitivity``,
``report``, ``explore``, ``calibrate``, ``optimise`` (also ``python -m sim``).

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
import textwrap
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

from sim.batch.backends import BackendError
from sim.batch.dataset import read_manifest
from sim.batch.folders import check_writable, claim, holder, os_error_line
from sim.batch.output import check_destination, write_run
from sim.batch.tasks import Variant
from sim.input.errors import InputError, did_you_mean
from sim.input.limits import REPLICATIONS_MAX, SEED_MAX, WORKERS_MAX, YEAR_MAX
from sim.input.options import Parser, integer
from sim.model.dated import idle_entries, warning
from sim.model.files import load, model_hash, read_toml, resolve
from sim.model.posterior import check_draws, read_posterior
from sim.model.root import Model
from sim.study.calibration.command import add_parser as add_calibrate_parser
from sim.study.compare import format_frame, intervals, paired_differences, per_replication
from sim.study.experiment import Experiment, read_experiment
from sim.study.experiment import warnings as experiment_warnings
from sim.study.formats import FORMATS, markdown_document, summary_csv
from sim.study.keys import format_keys, model_keys
from sim.study.optimise.command import add_parser as add_optimise_parser
from sim.study.precision import Precision, parse_goal
from sim.study.results import load as load_results
from sim.study.results import unverified
from sim.study.sensitivity import DEFAULT_OUTCOMES, analyse, design_of, format_analysis, parse_outcome
from sim.study.sensitivity import write as write_sensitivity
from sim.study.summary import against_targets, format_table, key_indicators
from sim.study.sweep import SweepStoppedError, sweep
from sim.study.targets import load_targets

BASE_MODEL = Path("models/haarlem.toml")
FITTED_MODEL = Path("calibration/fitted/haarlem.toml")
TARGETS = Path("calibration/targets.csv")
POSTERIOR = Path("calibration/fitted/haarlem_posterior.parquet")
EXPLORE_REPLICATIONS_MAX = 200  # a page left open cannot ask for more a scenario


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
        except OSError as err:  # a full disk, a folder without permission, ...: no traceback
            print(f"error: {' '.join(os_error_line(err).split())}", file=sys.stderr)
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

    _add_run_parser(sub)

    add_calibrate_parser(sub)

    p = sub.add_parser("check", help="validate a model or experiment file without running it")
    p.add_argument("file", type=Path, help="a model file, or an experiment file (it names a model)")
    p.set_defaults(func=_cmd_check)

    p = sub.add_parser("keys", help="every key an experiment can override, with its value, its "
                       "tag (data or assumption) and the assumption's range")
    p.add_argument("model", nargs="?", type=Path, default=BASE_MODEL,
                   help=f"model file (default {BASE_MODEL}, the model experiments start from)")
    p.add_argument("--match", default=None, metavar="TEXT", help="only keys that contain TEXT")
    p.set_defaults(func=_cmd_keys)

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
    p.add_argument("--precision", action="append", default=None, metavar="METRIC[:GROUP]=HALFWIDTH",
                   help="stop early once every scenario's paired difference against the baseline of "
                        "this metric (group total when not given) has a 95 %% half-width at most "
                        "HALFWIDTH, checked after each batch of replications (repeat for more)")
    p.add_argument("--batch", type=integer(2, REPLICATIONS_MAX), default=10,
                   help="with --precision: replications per batch (default 10)")
    p.add_argument("--years", type=_years, default=None, metavar="FIRST-LAST",
                   help="with --precision: years of the yearly mean (default: all simulated years)")
    p.set_defaults(func=_cmd_sweep)

    add_optimise_parser(sub)
    _add_results_parsers(sub)
    return parser


def _add_run_parser(sub: Any) -> None:
    """``opvang run``."""
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


def _add_results_parsers(sub: Any) -> None:
    """``opvang summary`` and ``opvang sensitivity``: what a sweep's results say."""
    p = sub.add_parser("summary", help="main indicators per scenario of a sweep, with 95 %% "
                       "intervals and paired differences against the baseline")
    p.add_argument("results", type=Path, help="results folder of a sweep, e.g. results/NAME")
    p.add_argument("--years", type=_years, default=None, metavar="FIRST-LAST",
                   help="years to average over (default: all simulated years)")
    p.add_argument("--baseline", default=None, help="scenario to compare with (default: the "
                   "experiment's baseline)")
    p.add_argument("--format", choices=FORMATS, default="text",
                   help="text (default), csv (one table for a spreadsheet: opvang summary RESULTS "
                        "--format csv > summary.csv) or markdown")
    p.set_defaults(func=_cmd_summary)

    p = sub.add_parser("sensitivity", help="sensitivity indices of a sampled sweep (an experiment "
                       "with a [sample]): a ranking of the factors per outcome, as a table and figure")
    p.add_argument("results", type=Path, help="results folder of the sweep, e.g. results/NAME")
    p.add_argument("--years", type=_years, default=None, metavar="FIRST-LAST",
                   help="years to average over (default: all simulated years)")
    p.add_argument("--outcome", action="append", default=None, metavar="METRIC[:GROUP]",
                   help="an outcome of the annual table, group total when not given (repeat for "
                        "more; default: street_nights, stays_over_9_months, bw_waiting_list, "
                        "mean_wait_for_bed_days)")
    p.add_argument("--out", type=Path, default=None,
                   help="folder for sensitivity.csv and sensitivity.png (default: RESULTS)")
    p.set_defaults(func=_cmd_sensitivity)
    _add_view_parsers(sub)


def _add_view_parsers(sub: Any) -> None:
    """``opvang report`` and ``opvang explore``: the answer in pictures and words."""
    p = sub.add_parser("report", help="one self-contained HTML file of a run or a sweep: headline "
                       "figures with 95 %% ranges and paired differences, and the figures")
    p.add_argument("results", type=Path, help="results folder of a run or a sweep, e.g. results/NAME")
    p.add_argument("--lang", choices=("en", "nl"), default="en", help="English (default) or Dutch")
    p.add_argument("--out", type=Path, default=None,
                   help="the HTML file (default RESULTS/report-LANG.html); figures as PNG in OUT-figures/")
    p.add_argument("--years", type=_years, default=None, metavar="FIRST-LAST",
                   help="years to average over (default: all simulated years)")
    p.add_argument("--baseline", default=None, help="scenario to compare with (default: the "
                   "experiment's baseline)")
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("explore", help="a local web page: pick scenarios of a finished sweep and see "
                       "the figures, or change a lever and run that scenario on demand "
                       "(pip install -e '.[explore]')")
    p.add_argument("folder", nargs="?", type=Path, default=Path("results"),
                   help="the folder whose sweeps the page offers; its runs go to FOLDER/explore "
                        "(default results)")
    p.add_argument("--port", type=integer(1, 65535), default=5006)
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--lang", choices=("en", "nl"), default="en")
    p.add_argument("--model", type=Path, default=BASE_MODEL,
                   help=f"model of the scenarios (default {BASE_MODEL})")
    p.add_argument("--posterior", type=Path, default=POSTERIOR,
                   help=f"posterior the replications draw from (default {POSTERIOR}; 'none': the "
                        "model as it is)")
    p.add_argument("--replications", "-n", type=integer(1, EXPLORE_REPLICATIONS_MAX), default=20,
                   help="replications of each scenario run from the page (at most "
                        f"{EXPLORE_REPLICATIONS_MAX})")
    p.add_argument("--seed", type=integer(0, SEED_MAX), default=20190101)
    p.add_argument("--until", type=integer(1, YEAR_MAX), default=None, metavar="YEAR",
                   help="last simulated year (default: the model's end_year)")
    p.add_argument("--warmup", type=integer(0, 50), default=None, metavar="YEARS",
                   help="warm-up years (default: the model's)")
    p.add_argument("--workers", "-j", type=integer(1, WORKERS_MAX), default=1,
                   help="processes for a run from the page (default 1)")
    p.set_defaults(func=_cmd_explore)


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
    """A model file, or an experiment file (one that names a model, or has scenarios)."""
    raw = read_toml(args.file)
    if any(key in raw for key in ("model", "scenarios", "grids", "sample", "replications", "optimise")):
        exp = read_experiment(args.file)
        print(f"{args.file}: ok ({_described(exp)})")
        _warn(experiment_warnings(exp))
        return 0
    model = load(args.file)
    print(f"{args.file}: ok ({len(model.facilities)} facilities, {len(model.groups)} groups, "
          f"{len(model.channels)} channels; hash {model_hash(model)})")
    _warn_idle(model, args.file)
    return 0


def _warn(lines: list[str]) -> None:
    for line in lines:
        print(line, file=sys.stderr)


def _warn_idle(model: Model, file: Path) -> None:
    """Warn about the model's dated entries that cannot act within its horizon (a model
    reused with a shorter one: allowed, and said by ``check``; a scenario's override of such
    an entry is refused everywhere, :func:`sim.study.experiment.read_experiment`)."""
    idle = idle_entries(model)
    if idle:
        _warn([warning(model, str(file), idle)])


def _cmd_keys(args: argparse.Namespace) -> int:
    keys = model_keys(args.model)
    load(args.model)  # a model that does not validate is an error here too
    shown = [k for k in keys if args.match is None or args.match in k.key]
    print(textwrap.fill(f"{len(shown)} keys of {args.model} an experiment can override ([scenarios.NAME] "
          '"KEY" = VALUE); a new date under a schedule or a channel\'s dated table adds an entry, '
          "e.g. facilities.velserpoort.schedule.2025-01-01.places. Tags: data (from a source), "
          "assumption [plausible range], fitted (a calibration's value)", 100) + "\n")
    print(format_keys(shown))
    return 0


def _described(exp: Experiment) -> str:
    """An experiment in a line: its size, seed and model."""
    n = len(exp.scenarios)
    text = (f"experiment {exp.name}: {n} scenario{'s' if n > 1 else ''} x {exp.replications} "
            f"replications = {n * exp.replications} tasks, seed {exp.seed}, model {exp.model_file}")
    if exp.posterior is not None:
        text += f", posterior {exp.posterior.file}"
    if exp.optimise is not None:
        opt = exp.optimise
        text += (f"; optimise {len(opt.variables)} decision variables, {len(opt.objectives)} "
                 f"objective{'s' if len(opt.objectives) > 1 else ''}, {len(opt.constraints)} "
                 f"constraint{'s' if len(opt.constraints) != 1 else ''}: {opt.trials} trials "
                 f"({opt.sampler_name()}), then KN among the best {opt.select.best} "
                 f"(delta {opt.select.delta:g}, alpha {opt.select.alpha:g})")
    if exp.design is not None:
        kinds = list(exp.design.kinds.values())
        text += (f"; sample {exp.design.method}, n {exp.design.n}, seed {exp.design.seed}: "
                 f"{len(exp.design.unit)} points of {kinds.count('parameter')} parameters and "
                 f"{kinds.count('lever')} levers")
    return text


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
    if targets is not None and args.targets is None and not _targets_fit(targets[1], model):
        print(f"{targets[0]} names none of the client groups of {model.name}: not compared "
              "(--targets FILE compares a file of observed figures)")
        targets = None
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
    print(run_header(model_file, args.posterior, args.replications, targets is not None))
    print("median, 2.5-97.5 % quantiles and mean over replications\n")
    if targets is not None:
        print(f"observed ({targets[0]}) beside simulated, same definitions:")
        print(format_table(against_targets(annual, targets[1])))
        print()
    print("main indicators:")
    print(format_table(key_indicators(annual)))
    print(f"\nresults written to {out}")
    return 0


def run_header(model_file: Path, posterior: Path | None, replications: int, targets: bool) -> str:
    """What the figures of ``opvang run`` are: the fitted point or the posterior, and how to
    read ``inside95`` with few replications."""
    if posterior is not None:
        what = (f"Over the posterior {posterior}: each replication draws one parameter set the "
                "data support, so the ranges carry what the data leave open as well as chance.")
    else:
        which = ("the fitted point" if model_file.resolve() == FITTED_MODEL.resolve()
                 else "one parameter set")
        what = (f"These figures are {which} ({model_file}): every replication runs the same "
                "parameters, fine for a first look, not for a policy answer. For the answer to "
                f"quote, run over the posterior: opvang run --posterior {POSTERIOR} --replications 60")
    lines = [what]
    if targets:
        lines.append(f"inside95: whether the observed value lies within the 2.5-97.5 % range of "
                     f"these {replications} replications. With few replications that range is "
                     "rough (with 5, close to the lowest and highest value) and one parameter set "
                     "leaves out what the data leave open, so many rows show False; the fit's own "
                     "check (calibration/fitted/predictive_check.csv, 200 posterior draws) has "
                     "most target rows inside.")
    return "\n".join(textwrap.fill(line, 100) for line in lines) + "\n"


def _until(model: Model, until: int | None) -> Model:
    """The model simulated up to ``--until`` (checked against its start year)."""
    if until is None:
        return model
    start = model.simulation.start.year
    if until < start:
        raise InputError("--until", "", f"expected a year from {start} to {YEAR_MAX}, got {until}")
    return dataclasses.replace(model, simulation=dataclasses.replace(model.simulation,
                                                                     end_year=until))


def _targets_fit(targets: Any, model: Model) -> bool:
    """Whether a targets file found on its own is about this model: a group it names (other
    than ``total``) is one of the model's client groups (a model of another region, such as
    ``models/examples/``, is not compared with the project's observed figures)."""
    return bool(set(targets["group"]) & set(model.groups))


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
    precision = None
    if args.precision:
        precision = Precision(tuple(parse_goal(g) for g in args.precision), args.batch, args.years)
    elif args.years is not None or "--batch" in args.argv:
        raise InputError("--years" if args.years is not None else "--batch", "", "only with --precision")
    try:
        report = sweep(exp, args.out, workers=args.workers, scheduler=args.scheduler,
                       progress=not args.quiet, command=command, precision=precision)
    except SweepStoppedError as stop:
        if not isinstance(stop.__cause__, KeyboardInterrupt | BackendError | OSError):
            traceback.print_exception(stop.__cause__)
        print(f"error: {stop}", file=sys.stderr)
        return 1
    print(f"{exp.name}: {report.total} tasks in {report.out} ({report.computed} computed now, "
          f"{report.already} already there) on {report.backend}, {report.seconds:.1f} s")
    if report.stopped_early is not None:
        early = report.stopped_early
        print(f"stopped early after {early['after_replications']} of {early['of']} replications: "
              f"{early['reason']}; the same command resumes and stops there, without --precision "
              "it computes the rest")
    print(f"summary: opvang summary {shlex.quote(str(report.out))}")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from sim.study.report import write as write_report  # matplotlib: imported when needed

    out, pngs = write_report(args.results, args.out, args.lang, args.years, args.baseline)
    print(f"report written to {out} ({out.stat().st_size / 1e6:.1f} MB, opens without a network); "
          f"{len(pngs)} figures as PNG in {out.with_name(out.stem + '-figures')}")
    return 0


def _cmd_explore(args: argparse.Namespace) -> int:
    try:
        from sim.page.serve import serve
    except ImportError as err:
        raise InputError("opvang explore", "", f"needs the explore extra: pip install -e '.[explore]' "
                         f"({err})") from None
    posterior = None if str(args.posterior) == "none" else args.posterior
    for path in (args.model, posterior):
        if path is not None and not path.is_file():
            raise InputError(str(path), "", "file not found")
    args.folder.mkdir(parents=True, exist_ok=True)
    try:
        serve(args.folder, args.host, args.port, args.lang, model=args.model.resolve(),
              posterior=None if posterior is None else posterior.resolve(),
              replications=args.replications,
              seed=args.seed, end_year=args.until, warmup_years=args.warmup, workers=args.workers)
    except KeyboardInterrupt:
        print("opvang explore stopped", file=sys.stderr)
    return 0


def _cmd_summary(args: argparse.Namespace) -> int:
    annual = load_results(args.results, "annual", overrides=False)
    manifest, damaged = _manifest_or_warning(args.results)
    scenarios = list(dict.fromkeys(annual["scenario"]))
    baseline = args.baseline or manifest.get("baseline") or scenarios[0]
    if baseline not in scenarios:
        if args.baseline:
            raise InputError("--baseline", "", f"expected one of the scenarios: {', '.join(scenarios)}"
                             f"{did_you_mean(baseline, scenarios)}")
        raise InputError(str(args.results), "", f"the experiment's baseline scenario {baseline!r} "
                         f"has no results here (scenarios with results: {', '.join(scenarios)}); "
                         "run `opvang sweep` again to compute it, or give --baseline NAME")
    years = args.years or (int(annual["year"].min()), int(annual["year"].max()))
    values = per_replication(annual, years)
    if values.empty:
        raise InputError("--years", "", f"no results in {years[0]}-{years[1]}")
    table = intervals(values)
    differences = paired_differences(values, baseline) if len(scenarios) > 1 else None
    about, warning = _summary_header(args.results, annual, manifest, scenarios)
    warning = "\n".join(filter(None, [damaged, warning]))
    if args.format == "csv":
        if warning:
            print(warning, file=sys.stderr)
        sys.stdout.write(summary_csv(table, differences, baseline, years))
        return 0
    texts = _summary_texts(baseline, years)
    if args.format == "markdown":
        if warning:
            print(warning, file=sys.stderr)
        sections = [("Scenarios", texts[0], table)] + ([] if differences is None else [
            (f"Paired differences against {baseline}", texts[1], differences)])
        print(markdown_document(f"Summary of {manifest.get('experiment') or args.results.name}",
                                about, sections))
        return 0
    print(about)
    if warning:
        print(warning)
    print(texts[0] + "\n")
    print(format_frame(table))
    if differences is not None:
        print(f"\n{texts[1]}\n")
        print(format_frame(differences))
    return 0


def _manifest_or_warning(results: Path) -> tuple[dict[str, Any], str]:
    """A results folder's manifest, or none and a warning when it is damaged: the data files
    alone still give a summary (the baseline is then the first scenario, or --baseline)."""
    try:
        return read_manifest(results) or {}, ""
    except InputError as err:
        return {}, (f"warning: {err.file}: {err.expected.split('; ')[0]}; this summary is of the data "
                    "files alone (baseline: --baseline, else the first scenario); "
                    f"{err.expected.split('; ', 1)[1]}")


def _summary_header(results: Path, annual: Any, manifest: dict[str, Any],
                    scenarios: list[str]) -> tuple[str, str]:
    """The line that says what was run, and a warning when the sweep is not complete."""
    name = manifest.get("experiment") or results.name
    reps = annual.groupby("scenario", observed=True)["replication"].nunique()
    count = str(reps.min()) if reps.min() == reps.max() else f"{reps.min()}-{reps.max()}"
    plural = "s" if len(scenarios) > 1 else ""
    seed = manifest.get("seeds", {}).get("seed", ", ".join(map(str, annual["seed"].unique())))
    about = (f"experiment {name} ({results}): {len(scenarios)} scenario{plural} x {count} "
             f"replications, seed {seed}")
    warning = unverified(results)
    stop = manifest.get("stopped_early")
    if manifest.get("status") == "stopped_early" and stop:
        about += (f"; stopped early after {stop['after_replications']} of {stop['of']} replications "
                  "(every paired difference asked for precise enough)")
    elif manifest.get("status", "complete") != "complete":
        status = manifest["status"]
        if status == "running" and holder(results) is None:
            status = "stopped before it finished (killed)"
        done = len(annual[["scenario", "replication"]].drop_duplicates())
        warning = "\n".join(filter(None, [warning, (
            f"warning: the sweep is {status}: {done} of {manifest.get('tasks')} tasks "
            "are in; run `opvang sweep` again to finish it")]))
    return about, warning


def _summary_texts(baseline: str, years: tuple[int, int]) -> tuple[str, str]:
    """What the two tables of a summary hold, in words."""
    return (f"yearly means over {years[0]}-{years[1]}, described over the replications: median and "
            "2.5-97.5 % quantiles (the figures to quote), and the mean with its 95 % t interval "
            "(the precision of the estimate)",
            f"paired differences against {baseline} (scenario minus {baseline}, replication by "
            "replication: common random numbers; n: the replications each interval used; "
            "n_for_10pct: the replications with which the interval's half-width would be 10 % of "
            "the difference)")


def _cmd_sensitivity(args: argparse.Namespace) -> int:
    """Indices per outcome, printed and written as sensitivity.csv and sensitivity.png."""
    design, _ = design_of(args.results)  # before reading the table: a clear error for other folders
    outcomes = [parse_outcome(o) for o in args.outcome] if args.outcome else list(DEFAULT_OUTCOMES)
    out = args.out or args.results
    check_writable(out)
    annual = load_results(args.results, "annual", overrides=False)
    if unverified(args.results):
        print(unverified(args.results), file=sys.stderr)
    analysis = analyse(args.results, annual, outcomes, args.years)
    first, last = analysis.years
    print(f"experiment {analysis.experiment} ({args.results}): {design.method} sample of "
          f"{len(design.factors)} factors, n {design.n}, seed {design.seed}: {len(design.unit)} "
          f"points x {analysis.replications} replication{'s' if analysis.replications > 1 else ''}")
    print(f"each point's value: the yearly mean over {first}-{last}, averaged over its replications; "
          "rank 1 is the most influential factor\n")
    print(format_analysis(analysis))
    csv, png = write_sensitivity(analysis, out)
    print(f"\nwritten: {csv}, {png}")
    return 0
