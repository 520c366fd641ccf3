"""``opvang optimise``: the search, the selection among its best candidates, and the outputs.

1. The baseline is evaluated over replications ``0..n0-1`` (``n0`` = the experiment's
   ``replications``) and the objectives' metric names are checked against its yearly table.
2. The search (:mod:`.search`) evaluates each candidate over the same replications.
3. The ``select.best`` feasible candidates with the best first objective (the baseline among
   them when it is) go to the KN procedure (:mod:`.selection`) on *fresh* replications
   ``n0, n0+1, ...`` (its first stage does not reuse the data that chose them).
4. The selected mix is compared with the baseline replication by replication.

Everything is a task in one dataset (:mod:`.store`): run again after a kill, it resumes.
"""

from __future__ import annotations

import dataclasses
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.batch.backends import make_backend
from sim.batch.dataset import remove_temporary, write_manifest
from sim.batch.folders import check_writable, claim
from sim.input.errors import InputError
from sim.input.limits import REPLICATIONS_MAX, out_of_range
from sim.model.files import split_dotted, to_jsonable
from sim.study.compare import intervals
from sim.study.experiment import Experiment, read_experiment
from sim.study.optimise.outputs import described, distinct, labels, pareto, write_outputs
from sim.study.optimise.search import Asked, search, violations
from sim.study.optimise.selection import KNResult, kn_select
from sim.study.optimise.store import Store, check_out, log, new_manifest
from sim.study.sweep import SweepStoppedError, new_session, now, scan_pairs

DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class OptimiseReport:
    """What ``opvang optimise`` did."""

    out: Path
    folder: Path  # the outputs
    selection: dict[str, Any]
    computed: int  # simulations run by this call
    seconds: float
    backend: str
    cpu_seconds: float


def run_optimise(path: str | Path, out: str | Path | None = None, *, workers: int | None = None,
                 scheduler: str | None = None, progress: bool = True, command: str = "",
                 replications: int | None = None, trials: int | None = None,
                 max_replications: int | None = None) -> OptimiseReport:
    """Read an experiment file with an ``[optimise]`` table and run its search.

    ``replications``, ``trials`` and ``max_replications`` (of the selection) replace the file's
    (a small run for a quick check, such as the notebooks' tests); they are part of the
    definition, so such a run needs its own ``out``."""
    exp = read_experiment(path)
    spec = exp.optimise
    if spec is None:
        raise InputError(str(path), "optimise", "no [optimise] table: nothing to search "
                         "(see sim/study/optimise/spec.py)")
    for key, value in (("replications", replications), ("optimise.trials", trials),
                       ("optimise.select.max_replications", max_replications)):
        problem = None if value is None else out_of_range(value, 2, REPLICATIONS_MAX)
        if problem:
            raise InputError(str(path), key, problem)
    if replications is not None:
        exp = dataclasses.replace(exp, replications=replications)
    most = max_replications or spec.select.max_replications
    select = dataclasses.replace(spec.select, max_replications=most)
    spec = dataclasses.replace(spec, trials=trials or spec.trials, select=select)
    exp = dataclasses.replace(exp, optimise=spec)
    return optimise(exp, Path(out) if out is not None else None, workers=workers,
                    scheduler=scheduler, progress=progress, command=command)


def optimise(exp: Experiment, out: Path | None = None, *, workers: int | None = None,
             scheduler: str | None = None, progress: bool = True, command: str = "") -> OptimiseReport:
    """Search, select and write into ``out`` (default ``results/NAME-optimise``)."""
    if exp.replications < 2:
        raise InputError(exp.file, "replications", "expected at least 2 for a search (the "
                         "replications each candidate is evaluated over)")
    out = out if out is not None else Path("results") / f"{exp.name}-optimise"
    check_writable(out)
    check_out(out, exp)
    started = time.perf_counter()
    with make_backend(workers, scheduler) as backend, claim(out):
        previous = check_out(out, exp)
        out.mkdir(parents=True, exist_ok=True)
        remove_temporary(out)
        done, damaged = scan_pairs(out, _on_disk(out, exp.tables), exp.tables, exp.seed)
        session = new_session(backend.description, command, damaged)
        manifest = new_manifest(exp, previous, session)
        write_manifest(out, manifest)
        store = Store(exp, out, backend, manifest, done)
        try:
            folder, selection = _steps(store, progress)
        except BaseException as err:
            _finish(store, session, "interrupted")
            if isinstance(err, InputError):
                raise
            raise SweepStoppedError(f"the search {exp.name} stopped ({type(err).__name__}: {err}); "
                                    f"its evaluations are in {out}: run the same command again "
                                    "to go on") from err
        _finish(store, session, "complete")
    return OptimiseReport(out, folder, selection, store.computed, time.perf_counter() - started,
                          backend.description, store.cpu_seconds)


def _steps(store: Store, progress: bool) -> tuple[Path, dict[str, Any]]:
    exp, spec = store.exp, store.spec
    store.evaluate([exp.baseline], range(exp.replications))
    store.check_metrics()
    log(f"{exp.name}: baseline evaluated over {exp.replications} replications; searching "
        f"({spec.sampler_name()}, {spec.trials} trials in rounds of {spec.batch})", progress)
    asked = search(store, progress)
    table = candidates(store, asked)
    result, compared = select(store, table)
    log(f"selection: {compared[result.selected] if compared else 'none feasible'}", progress)
    selection = record(store, table, asked, result, compared)
    if compared:
        table = _with_selection(table, result, compared)
    return write_outputs(store.out, table, selection), selection


def candidates(store: Store, asked: list[Asked]) -> pd.DataFrame:
    """Every distinct candidate (the baseline first): decision values, measures, feasibility."""
    exp, spec = store.exp, store.spec
    names = [exp.baseline, *dict.fromkeys(a.candidate for a in asked if a.candidate)]
    values = {n: store.values(n, range(exp.replications)) for n in names}
    table = described(values, spec, exp.baseline)
    base_model = to_jsonable(exp.scenarios[exp.baseline].model)
    for key in spec.variables:
        column = [store.scenarios[n].overrides.get(key, value_now(base_model, key)) for n in names]
        table.insert(1, key, pd.Series(column, dtype=object).astype(str))
    firsts = {a.candidate: a.round for a in reversed(asked) if a.candidate}
    table.insert(1, "round", [firsts.get(n, -1) for n in names])
    table.insert(2, "times_asked", [sum(a.candidate == n for a in asked) for n in names])
    means = np.array([values[n].mean(axis=0) for n in names])
    table["feasible"] = [all(v <= 0 for v in violations(spec, m, means[0])) for m in means]
    objectives = means[:, : len(spec.objectives)]
    front = np.zeros(len(names), dtype=bool)
    feasible = table["feasible"].to_numpy()
    front[feasible] = pareto(objectives[feasible], [o.sense for o in spec.objectives])
    table["on_front"] = front
    return table


def select(store: Store, table: pd.DataFrame) -> tuple[KNResult, list[str]]:
    """KN among the best feasible candidates on the first objective, on fresh replications."""
    spec, n0 = store.spec, store.exp.replications
    objective = spec.objectives[0]
    column = f"{labels(spec)[0]} mean"
    eligible = table["feasible"] & (spec.select.include_baseline | (table["candidate"] != store.exp.baseline))
    ranked = table[eligible].sort_values(column, ascending=objective.sense == "minimise", kind="stable")
    compared = list(ranked["candidate"][: spec.select.best])
    if not compared:
        return KNResult(-1, [], [], [], 0.0, 0, False, spec.select.alpha, spec.select.delta), []

    def more(columns: list[int], start: int, stop: int) -> np.ndarray:
        names = [compared[c] for c in columns]
        reps = range(n0 + start, n0 + stop)
        store.evaluate(names, reps)
        return np.column_stack([store.values(n, reps)[:, 0] for n in names])

    first = more(list(range(len(compared))), 0, n0)
    sel = spec.select
    return kn_select(first, more, delta=sel.delta, alpha=sel.alpha, batch=sel.batch,
                     max_replications=sel.max_replications,
                     minimise=objective.sense == "minimise"), compared


def record(store: Store, table: pd.DataFrame, asked: list[Asked], result: KNResult,
           compared: list[str]) -> dict[str, Any]:
    """The selection as written to ``selection.json``: the mix, its guarantee in words, and
    its paired differences against the baseline."""
    exp, spec = store.exp, store.spec
    n0, sel, objective = exp.replications, spec.select, spec.objectives[0]
    chosen = compared[result.selected] if compared else None
    out: dict[str, Any] = {
        "experiment": exp.name, "experiment_file": exp.file, "baseline": exp.baseline,
        "selected": chosen, "overrides": store.scenarios[chosen].overrides if chosen else None,
        "objective": {"measure": labels(spec)[0], "sense": objective.sense, "years": list(objective.years)},
        "measures": labels(spec),
        "delta": sel.delta, "alpha": sel.alpha, "guarantee_holds": chosen is not None and result.guarantee,
        "guarantee": guarantee_text(spec, result, compared),
        "compared": [{"candidate": c, "replications": result.replications[i],
                      "eliminated_at": result.eliminated_at[i], "mean": result.means[i]}
                     for i, c in enumerate(compared)],
        "kn": {"h2": result.h2, "most_replications": result.bound, "first_stage": [n0, 2 * n0 - 1],
               "truncated": result.truncated},
        "search": {"sampler": spec.sampler_name(), "trials": len(asked), "batch": spec.batch,
                   "failed_trials": [{"trial": a.trial, "overrides": a.overrides, "problem": a.problem}
                                     for a in asked if a.candidate is None],
                   "distinct_candidates": len(table) - 1, "replications_per_candidate": n0},
    }
    if chosen is not None:
        out |= _against_baseline(store, chosen, n0 + result.replications[result.selected])
    done = store.done
    out["simulations"] = {"search": sum(r < n0 for _, r in done),
                          "selection_and_comparison": sum(r >= n0 for _, r in done), "total": len(done)}
    return out


def guarantee_text(spec: Any, result: KNResult, compared: list[str]) -> str:
    """The guarantee in words, from the numbers of this selection."""
    if not compared:
        return ("No candidate met the constraints (on its mean over the search's replications): "
                "nothing selected.")
    sel, objective = spec.select, spec.objectives[0]
    chosen, k = compared[result.selected], len(compared)
    years = f"{objective.years[0]}-{objective.years[1]}"
    text = (f"Among the {k} best feasible candidates of the search, {chosen} was selected by the KN "
            f"procedure (Kim and Nelson 2001) on {labels(spec)[0]} ({objective.sense}, yearly mean "
            f"over {years}, mean over posterior draws and replications): with probability at least "
            f"{1 - sel.alpha:.0%} it is within {sel.delta:g} of the best of these {k} (exactly: the "
            f"best is selected with that probability when it is at least {sel.delta:g} better than "
            "every other; normal replication means assumed). The search's other candidates, and mixes "
            "it did not try, are not covered; constraints are judged on the means.")
    if result.truncated:
        text += (f" The procedure was cut short at {sel.max_replications} replications per candidate "
                 f"before its own end ({result.bound}): the guarantee does NOT hold; raise "
                 f"select.max_replications to {result.bound} or widen delta.")
    return text


def _against_baseline(store: Store, chosen: str, n: int) -> dict[str, Any]:
    """The selected mix minus the baseline over its replications (baseline run on the same)."""
    exp = store.exp
    reps = range(n)
    store.evaluate([exp.baseline], reps)
    diff = store.values(chosen, reps) - store.values(exp.baseline, reps)
    out: dict[str, dict[str, Any]] = {}
    for name, j in distinct(store.spec).items():
        long = pd.DataFrame({"metric": name, "group": "", "scenario": chosen, "replication": list(reps),
                             "value": diff[:, j]})
        row = intervals(long).iloc[0]
        out[name] = {k: float(row[k]) for k in ("median", "p2.5", "p97.5", "mean", "mean_lo95", "mean_hi95")}
        out[name]["per_replication"] = [float(v) for v in diff[:, j]]
    return {"against_baseline": out, "against_baseline_replications": n}


def _with_selection(table: pd.DataFrame, result: KNResult, compared: list[str]) -> pd.DataFrame:
    index = {c: i for i, c in enumerate(compared)}
    table = table.copy()
    table["selection_replications"] = [result.replications[index[c]] if c in index else 0
                                       for c in table["candidate"]]
    table["selected"] = table["candidate"] == compared[result.selected]
    return table


def _on_disk(out: Path, tables: tuple[str, ...]) -> set[tuple[str, int]]:
    """(candidate, replication) of every task file found (the scan checks them)."""
    pairs = set()
    for table in tables:
        for path in out.glob(f"{table}/scenario=*/rep-*.parquet"):
            pairs.add((path.parent.name.split("=", 1)[1], int(path.stem.split("-")[1])))
    return pairs


def value_now(model: dict[str, Any], key: str) -> Any:
    """The value a decision key has in a resolved model (JSON): for a dated key
    (``...schedule.2025-01-01.places``, ``...dated.2025-01-01.haarlem``) the value in force on
    that date, from the last entry before it (a channel's quota before any dated one)."""
    parts = split_dotted(key)
    for i, part in enumerate(parts):
        if DATE.fullmatch(part):
            entries, field = _lookup(model, parts[:i]) or {}, parts[i + 1:]
            found = [v for d, v in sorted(entries.items()) if d <= part and _lookup(v, field) is not None]
            if found:
                return _lookup(found[-1], field)
            before = [*parts[: i - 1], "homes_per_year", *field]  # a channel's quota before any change
            return _lookup(model, before) if parts[i - 1] == "dated" else None
    return _lookup(model, parts)


def _lookup(node: Any, parts: list[str]) -> Any:
    for part in parts:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _finish(store: Store, session: dict[str, Any], status: str) -> None:
    session.update(ended=now(), status=status, computed=store.computed)
    store.manifest.update(status=status, ended=session["ended"] if status == "complete" else None,
                          tasks=len(store.done))
    write_manifest(store.out, store.manifest)
