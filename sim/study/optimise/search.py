"""The search over the decision variables: Optuna's ask-and-tell interface over our tasks.

Rounds of ``batch`` candidates: the sampler is asked for a round, every new candidate is
evaluated over replications ``0..n0-1`` (tasks on the backend, written to the dataset), and
the round's results are told back in the order they were asked. The sampler is seeded and
sees only what it is told, in that order, so the sequence of candidates is a function of the
experiment alone: not of the number of workers, the backend or the order in which tasks
finish. A search run again after a kill replays the same asks and tells, reading the
evaluations already on disk, and goes on from where it stopped to the same result.

A candidate asked twice (the same decision values) is one scenario, evaluated once.
The objectives and constraints told are means over the candidate's replications; a
constraint is met when its mean is (constraints are not part of the selection's guarantee).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState

from sim.input.errors import InputError
from sim.study.experiment import scenario
from sim.study.optimise.spec import Optimise, Variable
from sim.study.optimise.store import Store, log


@dataclass(frozen=True)
class Asked:
    """One trial of the search: what was asked, and the candidate that answers it."""

    trial: int
    round: int
    candidate: str | None  # None: the decision values give an invalid model
    overrides: dict[str, Any]
    problem: str = ""


def candidate_name(overrides: dict[str, Any]) -> str:
    """A candidate's scenario name: the same decision values, the same name."""
    text = json.dumps(overrides, sort_keys=True, default=str)
    return "c-" + hashlib.sha256(text.encode()).hexdigest()[:10]


def distributions(spec: Optimise) -> dict[str, BaseDistribution]:
    """Optuna's distribution for each decision variable (named by its model key)."""
    out: dict[str, BaseDistribution] = {}
    for key, v in spec.variables.items():
        if v.choices:
            out[key] = CategoricalDistribution(list(v.choices))
        elif v.integer:
            out[key] = IntDistribution(int(v.low or 0), int(v.high or 0), step=int(v.step or 1))
        else:
            out[key] = FloatDistribution(float(v.low or 0), float(v.high or 0),
                                         step=None if v.step is None else float(v.step))
    return out


def make_study(spec: Optimise) -> optuna.Study:
    """A seeded in-memory study: TPE, NSGA-II (population = batch) or random sampling.

    The samplers read the constraints set on each trial (feasible first)."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    seed = (spec.seed or 0) % 2**32
    name = spec.sampler_name()
    sampler: optuna.samplers.BaseSampler
    if name == "tpe":
        sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=min(10, max(spec.batch, 2)))
    elif name == "nsga2":
        sampler = optuna.samplers.NSGAIISampler(seed=seed, population_size=max(spec.batch, 2))
    else:
        sampler = optuna.samplers.RandomSampler(seed=seed)
    directions = [optuna.study.StudyDirection.MINIMIZE if o.sense == "minimise"
                  else optuna.study.StudyDirection.MAXIMIZE for o in spec.objectives]
    return optuna.create_study(sampler=sampler, directions=directions)


def search(store: Store, progress: bool = True) -> list[Asked]:
    """Run (or replay) every round of the search; the trials as asked."""
    spec, exp = store.spec, store.exp
    study = make_study(spec)
    dists = distributions(spec)
    reps = range(exp.replications)
    baseline = store.values(exp.baseline, reps).mean(axis=0)
    asked: list[Asked] = []
    for rnd in range(math.ceil(spec.trials / spec.batch)):
        n = min(spec.batch, spec.trials - len(asked))
        trials = [study.ask(dists) for _ in range(n)]
        round_ = [_candidate(store, t.number, rnd, _snapped(t.params, spec.variables)) for t in trials]
        store.evaluate([a.candidate for a in round_ if a.candidate], reps)
        for trial, a in zip(trials, round_, strict=True):
            _tell(study, trial, store, a, baseline)
        asked += round_
        log(f"round {rnd + 1}: {len(asked)} of {spec.trials} trials, {len(store.scenarios) - 1} "
            f"distinct candidates, {store.computed} simulations computed now", progress)
    return asked


def _candidate(store: Store, number: int, rnd: int, overrides: dict[str, Any]) -> Asked:
    name = candidate_name(overrides)
    try:
        store.add(scenario(store.exp, name, overrides, f"optimise.round-{rnd}"))
    except InputError as err:
        return Asked(number, rnd, None, overrides, f"{err.key}: {err.expected}")
    return Asked(number, rnd, name, overrides)


def _tell(study: optuna.Study, trial: optuna.Trial, store: Store, a: Asked, baseline: np.ndarray) -> None:
    if a.candidate is None:
        study.tell(trial, state=TrialState.FAIL)
        return
    means = store.values(a.candidate, range(store.exp.replications)).mean(axis=0)
    n = len(store.spec.objectives)
    for i, value in enumerate(violations(store.spec, means, baseline)):
        trial.set_constraint(f"constraint-{i:03d}", value)  # feasible: every one at most 0
    study.tell(trial, [float(v) for v in means[:n]])


def violations(spec: Optimise, means: np.ndarray, baseline: np.ndarray) -> list[float]:
    """Each constraint's violation (at most 0: met), from the measures' means."""
    out = []
    for j, c in enumerate(spec.constraints, start=len(spec.objectives)):
        shift = baseline[j] if c.relative_to == "baseline" else 0.0
        if c.at_most is not None:
            out.append(float(means[j] - (shift + c.at_most)))
        else:
            out.append(float(shift + (c.at_least or 0.0) - means[j]))
    return out


def _snapped(params: dict[str, Any], variables: dict[str, Variable]) -> dict[str, Any]:
    """Decision values in the model's types, a stepped float on its grid (no 0.30000000000000004)."""
    out = {}
    for key in variables:  # the [optimise] order
        value, v = params[key], variables[key]
        if isinstance(value, float) and v.step is not None and not v.integer:
            value = min(v.values(), key=lambda g: abs(float(g) - params[key]))
        out[key] = value.item() if isinstance(value, np.generic) else value
    return out
