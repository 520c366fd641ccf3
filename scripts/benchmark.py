"""Speed of the engine: CPU seconds per replication, µs per client visit and SimPy events per
client, at the model's volume and at ten times its volume.

Usage: python scripts/benchmark.py [--replications N] [--model FILE] [--scale K ...] [--against REF]

A client visit is one entry of a client into a stage: one row of the event log (a report at
the BCT, a bed, a waiting list, a place, a way out). Ten times the volume: every group's
arrivals, the place pools' direct applicants and stocks, and every capacity (beds, winter
beds, places, homes a year) multiplied by ``--scale`` through model overrides, so that the
region is comparable. With several scales (``--scale 3 10 20``) the µs per client visit show
how a visit's cost grows with the number of clients in the run at once
(``scripts/benchmark_locality.py`` separates that from the model's work).

Times are CPU seconds (``time.process_time``) of ``run_replication``, as ``opvang run`` calls
it: the engine's own end of a replication included, and the garbage collector as it runs.
Replications run in blocks of ``--block`` in a row per engine and volume, the blocks
alternating, each block in a fresh process after one untimed replication, as ``opvang run``
runs one model in its own process: no engine or volume runs in memory another one left (two
runs of each design, side by side: fresh processes gave 0.173 and 0.173 s a baseline
replication, one process for all gave 0.183 and 0.176; the same ratios between engines). The
machines are shared and noisy: compare the figures of one run, not across runs; the ratio of
the fastest runs is the one other work on the machine disturbs least.

``--against REF`` (a git commit, e.g. the branch point of a change) times that commit's
engine in the same run, and checks on the first replications that both give the same event
log and tables.
"""

from __future__ import annotations

import argparse
import importlib
import io
import multiprocessing
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from bare_simpy import events_per_second  # noqa: E402  (a script beside this one)

SEED = 1


def scaled(raw: dict[str, Any], k: float) -> dict[str, Any]:
    """Dotted-key overrides that multiply a model's volume by ``k``: arrivals, direct
    applicants, stocks at the start and every capacity."""
    out: dict[str, Any] = {}
    for name, group in raw.get("groups", {}).items():
        out[f"groups.{name}.arrivals"] = {y: n * k for y, n in group["arrivals"].items()}
    for name, fac in raw.get("facilities", {}).items():
        for date, entry in fac["schedule"].items():
            if "places" in entry:
                out[f"facilities.{name}.schedule.{date}.places"] = round(entry["places"] * k)
        if "winter_places" in fac:
            out[f"facilities.{name}.winter_places"] = round(fac["winter_places"] * k)
    for name, pool in raw.get("places", {}).items():
        out[f"places.{name}.schedule"] = {d: round(n * k) for d, n in pool["schedule"].items()}
        for key in ("direct_applicants_per_year", "initial_occupants", "initial_waiting"):
            if key in pool:
                value = pool[key] * k
                out[f"places.{name}.{key}"] = value if key.startswith("direct") else round(value)
    for name, channel in raw.get("channels", {}).items():
        if "homes_per_year" in channel:
            out[f"channels.{name}.homes_per_year"] = {
                p: n * k for p, n in channel["homes_per_year"].items()}
            for date, change in channel.get("dated", {}).items():
                out[f"channels.{name}.dated.{date}"] = {p: n * k for p, n in change.items()}
        if "homes" in channel:
            out[f"channels.{name}.homes"] = round(channel["homes"] * k)
    return out


@dataclass
class Engine:
    """An importable copy of the ``sim`` package, its models and what its runs gave."""

    label: str
    package: str
    models: dict[float, Any] = field(default_factory=dict)
    runs: dict[float, list[tuple[float, dict[str, Any]]]] = field(default_factory=dict)

    def module(self, name: str, before_layers: str) -> ModuleType:
        """The module ``name`` (``before_layers``: its name in a commit before the package
        was split into layer sub-packages)."""
        try:
            return importlib.import_module(f"{self.package}.{name}")
        except ModuleNotFoundError:
            return importlib.import_module(f"{self.package}.{before_layers}")

    def load(self, path: str, k: float) -> None:
        modelfile = self.module("model.files", "modelfile")
        overrides = scaled(modelfile.resolve(Path(path)), k) if k != 1 else None
        self.models[k] = modelfile.load(path, overrides)

    def run(self, k: float, replication: int, events: bool = False) -> tuple[float, Any]:
        """CPU seconds of one replication (all tables, as ``opvang run`` makes them)."""
        run_replication = self.module("replication.replicate", "engine").run_replication
        started = time.process_time()
        rep = run_replication(self.models[k], SEED, replication, events=events)
        return time.process_time() - started, rep


def engine_at(ref: str, into: Path) -> Engine:
    """The ``sim`` package of commit ``ref``, importable as ``sim_ref``."""
    archive = subprocess.run(["git", "archive", "--format=tar", ref, "sim"], cwd=ROOT,
                             check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    package = into / "sim_ref"
    (into / "sim").rename(package)
    for path in package.rglob("*.py"):
        path.write_text(re.sub(r"\b(from|import) sim\b", r"\1 sim_ref", path.read_text()))
    sys.path.insert(0, str(into))
    return Engine(f"engine at {ref}", "sim_ref")


def spread(values: list[float], fmt: str) -> str:
    """median (min-max)."""
    return (f"{format(statistics.median(values), fmt)} "
            f"({format(min(values), fmt)}-{format(max(values), fmt)})")


def time_blocks(engines: list[Engine], model: str, volumes: tuple[float, ...], n: int,
                block: int) -> None:
    """Run ``n`` replications of every engine at every volume, ``block`` in a row, each block
    in a fresh process (as ``opvang run`` runs one volume of one engine), the blocks
    alternating."""
    spawn = multiprocessing.get_context("spawn")
    for start in range(0, n, block):
        reps = list(range(start, min(start + block, n)))
        order = engines if start // block % 2 == 0 else engines[::-1]
        for k in volumes:
            for engine in order:
                with ProcessPoolExecutor(1, mp_context=spawn) as pool:
                    engine.runs.setdefault(k, []).extend(
                        pool.submit(timed_block, engine.package, model, k, reps).result())


def timed_block(package: str, model: str, k: float, reps: list[int]) -> list[tuple[float, dict[str, Any]]]:
    """In a fresh process: CPU seconds and counts of replications ``reps`` of ``package``'s
    engine at volume ``k``, after one replication that warms imports and caches."""
    engine = Engine("", package)
    engine.load(model, k)
    engine.run(k, 999)
    out = []
    for r in reps:
        seconds, rep = engine.run(k, r)
        out.append((seconds, {  # not the tables: they take memory
            "events": rep.n_events, "visits": getattr(rep, "n_visits", 0),
            "clients": getattr(rep, "n_clients", 0), "cpu": getattr(rep, "cpu", {})}))
    return out


def report(engines: list[Engine], k: float) -> None:
    """The figures of every engine at volume ``k``; visits and clients from the first."""
    counts = [(rep["visits"], rep["clients"]) for _, rep in engines[0].runs[k]]
    print(f"volume x{k:g} ({statistics.median(v for v, _ in counts):,.0f} client visits, "
          f"{statistics.median(c for _, c in counts):,.0f} clients a replication; "
          "median (min-max))")
    rows: dict[str, list[str]] = {"seconds per replication": [], "µs per client visit": [],
                                  "SimPy events per client": [], "SimPy events per visit": []}
    for engine in engines:
        seconds = [s for s, _ in engine.runs[k]]
        events = [rep["events"] for _, rep in engine.runs[k]]
        rows["seconds per replication"].append(spread(seconds, ".3f"))
        rows["µs per client visit"].append(
            spread([1e6 * s / v for s, (v, _) in zip(seconds, counts, strict=True)], ".2f"))
        rows["SimPy events per client"].append(
            spread([e / c for e, (_, c) in zip(events, counts, strict=True)], ".2f"))
        rows["SimPy events per visit"].append(
            spread([e / v for e, (v, _) in zip(events, counts, strict=True)], ".2f"))
    print(f"  {'':26s}" + "".join(f"{e.label:>30s}" for e in engines))
    for name, cells in rows.items():
        print(f"  {name:26s}" + "".join(f"{c:>30s}" for c in cells))
    phases = [rep["cpu"] for _, rep in engines[0].runs[k]]
    print("  this engine's phases (medians): " + ", ".join(
        f"{name} {statistics.median(p.get(name, 0.0) for p in phases):.3f}" for name in phases[0]))


def check(engines: list[Engine], k: float, n: int) -> None:
    """Whether the engines give the same event log and tables on the first ``n``
    replications; the yearly rows of metrics one engine has and the other lacks (a metric
    added since) are counted apart, the rows both have must be equal."""
    differ, added = [], 0
    for r in range(n):
        reps = [engine.run(k, r, events=True)[1] for engine in engines]
        differ += [(r, name) for name in ("events", "daily")
                   if not getattr(reps[0], name).equals(getattr(reps[1], name))]
        new, old = (rep.annual for rep in reps)
        keys = ["year", "metric", "group"]
        common = new.merge(old[keys], on=keys)
        added += len(new) - len(common)
        if len(common) != len(old) or not common.equals(old.merge(new[keys], on=keys)):
            differ.append((r, "annual"))
    print(f"  same event log, yearly and daily tables as the {engines[1].label} "
          f"(replications 0-{n - 1}): " + ("yes" if not differ else f"NO {differ}")
          + (f" ({added} yearly rows of metrics the {engines[1].label} lacks)" if added else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--replications", type=int, default=10, help="per engine and volume")
    parser.add_argument("--block", type=int, default=5, help="replications in a row")
    parser.add_argument("--model", default=str(ROOT / "models" / "haarlem.toml"))
    parser.add_argument("--scale", type=float, nargs="+", default=[10.0],
                        help="the larger volumes (default 10; several show how the cost of a "
                             "visit grows with the volume)")
    parser.add_argument("--against", help="a git commit whose engine is timed beside this one")
    args = parser.parse_args()
    volumes = (1.0, *args.scale)
    with tempfile.TemporaryDirectory() as tmp:
        engines = [Engine("this engine", "sim")]
        if args.against:
            engines.append(engine_at(args.against, Path(tmp)))
        time_blocks(engines, args.model, volumes, args.replications, args.block)
        if args.against:  # the check runs both engines here
            for engine in engines:
                for k in volumes:
                    engine.load(args.model, k)
        print(f"{args.model}, seed {SEED}, {args.replications} replications per engine and "
              f"volume, CPU seconds (process_time)")
        print(f"bare SimPy on this machine now: {events_per_second():,.0f} events per CPU second "
              f"(scripts/bare_simpy.py)")
        for k in volumes:
            report(engines, k)
            if args.against:
                check(engines, k, 2 if k == 1 else 1)
        for engine in engines:
            for k in args.scale:
                seconds = {v: [s for s, _ in engine.runs[v]] for v in (1.0, k)}
                print(f"{engine.label}: x{k:g} the volume costs "
                      f"{statistics.median(seconds[k]) / statistics.median(seconds[1.0]):.1f} "
                      f"times the CPU of x1 (medians; fastest runs: "
                      f"{min(seconds[k]) / min(seconds[1.0]):.1f})")
        if args.against:
            for k in volumes:
                ratio = (statistics.median(s for s, _ in engines[0].runs[k])
                         / statistics.median(s for s, _ in engines[1].runs[k]))
                print(f"this engine / {engines[1].label}, x{k:g}: {ratio:.2f} (medians)")


if __name__ == "__main__":
    main()
