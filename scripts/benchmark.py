"""Speed of the engine: CPU seconds per replication, µs per client visit, SimPy events per client,
at the model's volume and at ten times its volume.

Usage: python scripts/benchmark.py [--replications N] [--model FILE] [--scale K] [--against REF]

A client visit is one entry of a client into a stage (one row of the event log: a BCT report,
a bed, a waiting list, a place, a way out). Ten times the volume: every group's arrivals, the
place pools' direct applicants and stocks, and every capacity (beds, winter beds, places,
homes a year) scaled by ``--scale`` through model overrides, so that the region is comparable.

``--against REF`` (a git commit, e.g. the branch point of a change) times that commit's engine
in the same run, interleaved with this one, and checks that both give identical event logs and
tables. Times are CPU seconds of this process (time.process_time); the machines are shared and
noisy, so compare figures printed by one run, not across runs.
"""

from __future__ import annotations

import argparse
import importlib
import io
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
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
    """An importable copy of the ``sim`` package and the models it runs."""

    label: str
    package: str
    models: dict[float, Any] = field(default_factory=dict)

    def module(self, name: str) -> ModuleType:
        return importlib.import_module(f"{self.package}.{name}")

    def load(self, path: str, k: float) -> None:
        modelfile = self.module("modelfile")
        overrides = scaled(modelfile.resolve(Path(path)), k) if k != 1 else None
        self.models[k] = modelfile.load(path, overrides)

    def run(self, k: float, replication: int, events: bool = False) -> tuple[float, Any]:
        """CPU seconds of one replication (all tables, as ``opvang run`` makes them)."""
        run_replication = self.module("engine").run_replication
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
        text = re.sub(r"\b(from|import) sim\b", r"\1 sim_ref", path.read_text())
        path.write_text(text)
    sys.path.insert(0, str(into))
    return Engine(f"engine at {ref}", "sim_ref")


def spread(values: list[float], fmt: str) -> str:
    """median (min-max)."""
    return (f"{format(statistics.median(values), fmt)} "
            f"({format(min(values), fmt)}-{format(max(values), fmt)})")


def report(engine: Engine, k: float, runs: list[tuple[float, int]],
           counts: list[dict[str, float]]) -> None:
    """The figures of one engine at one volume; ``counts``: visits and clients of each run."""
    seconds = [s for s, _ in runs]
    events = [n for _, n in runs]
    visits = [c["visits"] for c in counts]
    print(f"  {engine.label}, volume x{k:g}:")
    print(f"    seconds per replication : {spread(seconds, '.3f')}  (median (min-max))")
    print(f"    µs per client visit     : "
          f"{spread([1e6 * s / v for s, v in zip(seconds, visits, strict=True)], '.2f')}")
    print(f"    SimPy events per client : "
          f"{spread([n / c['clients'] for n, c in zip(events, counts, strict=True)], '.2f')}  "
          f"(per visit {statistics.median(n / v for n, v in zip(events, visits, strict=True)):.2f})")
    print(f"    visits, clients         : {statistics.median(visits):,.0f}, "
          f"{statistics.median(c['clients'] for c in counts):,.0f}")


def phases(k: float, reps: list[Any]) -> None:
    """The split of a replication of this engine (medians)."""
    if not hasattr(reps[0], "cpu"):
        return
    parts = {name: statistics.median(r.cpu[name] for r in reps) for name in reps[0].cpu}
    print(f"    phases (x{k:g}, medians)  : " + ", ".join(f"{n} {s:.3f}" for n, s in parts.items()))


def compare(current: Any, reference: Any) -> list[str]:
    """Tables that differ between two replications."""
    return [name for name in ("events", "annual", "daily")
            if not getattr(current, name).equals(getattr(reference, name))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--replications", type=int, default=10)
    parser.add_argument("--model", default=str(ROOT / "models" / "haarlem.toml"))
    parser.add_argument("--scale", type=float, default=10.0, help="the larger volume (default 10)")
    parser.add_argument("--against", help="a git commit whose engine is timed beside this one")
    args = parser.parse_args()
    volumes = (1.0, args.scale)

    with tempfile.TemporaryDirectory() as tmp:
        engines = [Engine("this engine", "sim")]
        if args.against:
            engines.append(engine_at(args.against, Path(tmp)))
        for engine in engines:
            for k in volumes:
                engine.load(args.model, k)
                engine.run(k, 999)  # warm imports and caches
        runs: dict[tuple[str, float], list[tuple[float, int]]] = {
            (e.label, k): [] for e in engines for k in volumes}
        for r in range(args.replications):  # interleaved, so that load changes hit all alike
            for k in volumes:
                for engine in engines:
                    cpu, rep = engine.run(k, r)
                    runs[engine.label, k].append((cpu, rep.n_events))
        # counts, phases and the check, outside the timed runs
        print(f"{args.model}, seed {SEED}, {args.replications} replications, CPU seconds")
        for k in volumes:
            reps = [engines[0].run(k, r, events=True)[1] for r in range(args.replications)]
            counts = [{"visits": len(rep.events), "clients": rep.events["client"].nunique()}
                      for rep in reps]
            for engine in engines:
                report(engine, k, runs[engine.label, k], counts)
            phases(k, reps)
            if args.against:
                differ = [(r, compare(rep, engines[1].run(k, r, events=True)[1]))
                          for r, rep in enumerate(reps[:3])]
                print("    same event log and tables as the engine at "
                      f"{args.against} (replications 0-{len(differ) - 1}): "
                      + ("yes" if not any(d for _, d in differ) else f"NO {differ}"))
        median = {key: statistics.median(s for s, _ in v) for key, v in runs.items()}
        for engine in engines:
            ratio = median[engine.label, args.scale] / median[engine.label, 1.0]
            print(f"  {engine.label}: x{args.scale:g} volume costs {ratio:.1f}x the CPU of x1 "
                  f"(medians)")
        if args.against:
            gain = median[engines[0].label, 1.0] / median[engines[1].label, 1.0]
            print(f"  this engine / engine at {args.against} (x1, medians): {gain:.2f}")


if __name__ == "__main__":
    main()
