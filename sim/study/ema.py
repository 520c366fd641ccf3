"""The model as an EMA Workbench model (``pip install 'opvang-sim[ema]'``), for exploratory
modelling: scenario discovery (PRIM, CART), robustness and many-objective search.

>>> from ema_workbench import perform_experiments                    # doctest: +SKIP
>>> from ema_workbench.analysis import prim
>>> import sim.study.ema
>>> model = sim.study.ema.from_experiment("experiments/sensitivity_example.toml")
>>> scenarios, policies = sim.study.ema.design("experiments/sensitivity_example.toml")
>>> experiments, outcomes = perform_experiments(model, scenarios, policies, combine="sample")
>>> box = prim.Prim(sim.study.ema.inputs(experiments), outcomes["street_nights"] > 5000,
...                 threshold=0.8).find_box()

The uncertainties are the experiment's ``[parameters.KEY]``, the levers its ``[levers.KEY]``
(dotted model keys with ranges, :mod:`sim.study.sampling`); or give them to :func:`ema_model`
directly. ``log`` ranges become log-uniform distributions and ``integer`` ones integer
parameters, so EMA's own samplers respect them; a ``complement`` is filled in by the model
function. Each outcome (a metric and group of the annual table, ``METRIC`` or
``METRIC:GROUP``) is the yearly mean over ``years``, averaged over the replications.

What holds and what does not, next to ``opvang sweep``:

- Common random numbers hold: every experiment runs replications ``0 .. replications-1``
  with the same seed, as every scenario of a sweep does, so two experiments differ only by
  their inputs. With the same inputs, seed and replications an experiment gives exactly the
  value that ``opvang sensitivity`` computes for the sweep's point (tested).
- The model function also takes ``replication=r`` (that replication alone), so EMA's own
  replications work: ``ReplicatorModel(name, function=model.function)`` with
  ``replications = [{"replication": r} for r in range(R)]`` and outcomes such as
  ``ScalarOutcome("street_nights", function=np.mean)`` (or ``np.std``, spread over the
  replications).
- Sampling: EMA 2.5's own samplers (``perform_experiments(model, 100)``) draw from NumPy's
  global random state, so their designs repeat only after ``numpy.random.seed``. The
  experiment's seeded sample (:func:`design`) does not depend on it.
- Not in EMA: resuming (results stay in memory until ``ema_workbench.save_results``, a
  stopped run starts again from nothing), results streamed to disk with checksums and a
  manifest, and Dask (EMA runs on one process, a local pool or MPI/ipyparallel).
- ``ema_workbench.analysis.prim`` 2.5.3 fails on integer input columns with pandas 3
  (``TypeError: Invalid value ... for dtype 'int64'`` when pasting); :func:`inputs` gives
  the experiments' inputs as floats.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.batch.tasks import Task, run_task
from sim.input.errors import InputError
from sim.model.files import from_mapping, resolve, with_overrides
from sim.model.posterior import apply_draw
from sim.study.calibration.parameters import Priors
from sim.study.experiment import Experiment, read_experiment
from sim.study.sampling import Factor, check_factors
from sim.study.sensitivity import DEFAULT_OUTCOMES, parse_outcome

EMA_COLUMNS = ("scenario", "policy", "model")  # what perform_experiments adds to the inputs


@dataclass(frozen=True)
class Simulate:
    """The function of the EMA model: inputs by dotted key in, outcomes by name out.

    A plain picklable object, so that EMA's multiprocessing evaluator can send it to workers.
    """

    base: Mapping[str, Any]  # the model mapping, horizon applied
    file: str
    factors: Mapping[str, Factor]
    outcomes: tuple[tuple[str, str, str], ...]  # (name, metric, group)
    seed: int
    replications: int = 1
    years: tuple[int, int] | None = None
    priors: Priors = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "priors", Priors({k: f.parameter() for k, f in self.factors.items()}))

    def __call__(self, replication: int | None = None, **inputs: Any) -> dict[str, float]:
        """The outcomes of one experiment: the mean over the replications, or of one
        ``replication`` (a ``ReplicatorModel``)."""
        values = {k: (round(float(v)) if self.factors[k].integer else float(v))
                  for k, v in inputs.items() if k in self.factors}
        model = apply_draw(self.base, self.file, {}, self.priors.overrides(values, self.base))
        statistic = partial(yearly_means, outcomes=self.outcomes, years=self.years)
        runs = range(self.replications) if replication is None else [int(replication)]
        results = [run_task(Task("ema", r, self.seed, model, tables=(), encode=False,
                                 statistic=statistic)).statistic for r in runs]
        return {name: float(np.mean([res[name] for res in results])) for name, _, _ in self.outcomes}


def yearly_means(annual: pd.DataFrame, outcomes: Sequence[tuple[str, str, str]],
                 years: tuple[int, int] | None) -> dict[str, float]:
    """Each outcome's yearly mean over ``years`` (all years when None) in one replication."""
    if years is not None:
        annual = annual[annual["year"].between(*years)]
    out = {}
    for name, metric, group in outcomes:
        rows = annual[(annual["metric"] == metric) & (annual["group"] == group)]
        out[name] = float(rows["value"].mean()) if len(rows) else float("nan")
    return out


def ema_model(model_file: str | Path, uncertainties: Mapping[str, Factor],
              levers: Mapping[str, Factor] | None = None,
              outcomes: Sequence[str | tuple[str, str]] = DEFAULT_OUTCOMES, *, seed: int = 20190101,
              replications: int = 1, years: tuple[int, int] | None = None,
              overrides: Mapping[str, Any] | None = None, name: str = "opvang") -> Any:
    """An ``ema_workbench.Model`` of ``model_file`` (with ``overrides``, e.g. a horizon).

    ``uncertainties`` and ``levers`` map dotted model keys to ranges; every key is checked
    against the model first (an :class:`~sim.input.errors.InputError` names it).
    """
    ema = _ema()
    base = resolve(Path(model_file))
    file = str(model_file)
    if overrides:
        base = with_overrides(base, overrides, file)
    from_mapping(base, file)
    levers = dict(levers or {})
    factors = {**uncertainties, **levers}
    if len(factors) < len(uncertainties) + len(levers):
        raise InputError(file, next(k for k in levers if k in uncertainties), "both an uncertainty "
                         "and a lever")
    check_factors(factors, {k: "lever" if k in levers else "parameter" for k in factors}, base, file)
    named = tuple(_outcome(o) for o in outcomes)
    function = Simulate(base, file, factors, named, seed, replications, years)
    model = ema.Model(name, function=function)
    model.uncertainties = [_parameter(ema, k, f) for k, f in uncertainties.items()]
    model.levers = [_parameter(ema, k, f) for k, f in levers.items()]
    model.outcomes = [ema.ScalarOutcome(n) for n, _, _ in named]
    return model


def from_experiment(path: str | Path, outcomes: Sequence[str | tuple[str, str]] = DEFAULT_OUTCOMES,
                    years: tuple[int, int] | None = None) -> Any:
    """The EMA model of an experiment file with a ``[sample]``: its parameters as uncertainties,
    its levers as levers, its model and horizon, seed and replications."""
    exp = read_experiment(path)
    design = _design_of(exp)
    params = {k: f for k, f in design.factors.items() if design.kinds[k] == "parameter"}
    levers = {k: f for k, f in design.factors.items() if design.kinds[k] == "lever"}
    horizon = {f"simulation.{k}": v for k, v in exp.horizon.items()}
    return ema_model(exp.model_file, params, levers, outcomes, seed=exp.seed,
                     replications=exp.replications, years=years, overrides=horizon, name=exp.name)


def design(path: str | Path) -> tuple[list[Any], list[Any]]:
    """The experiment's seeded sample as EMA scenarios (the parameters) and policies (the
    levers), point by point: ``perform_experiments(model, scenarios, policies,
    combine="sample")`` runs exactly the sweep's points. An empty list where the experiment
    has no parameters, or no levers (pass 0 then)."""
    ema = _ema()
    exp = read_experiment(path)
    sample = _design_of(exp)
    scenarios, policies = [], []
    for i, point in enumerate(sample.names):
        values = sample.values(i)
        params = {k: v for k, v in values.items() if sample.kinds[k] == "parameter"}
        levers = {k: v for k, v in values.items() if sample.kinds[k] == "lever"}
        if params:
            scenarios.append(ema.Scenario(point, **params))
        if levers:
            policies.append(ema.Policy(point, **levers))
    return scenarios, policies


def inputs(experiments: pd.DataFrame) -> pd.DataFrame:
    """The inputs of ``perform_experiments``'s experiments as floats, for PRIM and CART."""
    return experiments.drop(columns=[c for c in EMA_COLUMNS if c in experiments]).astype(float)


def outcome_name(metric: str, group: str) -> str:
    """The EMA outcome of a metric and group: ``metric``, or ``metric.group``."""
    return metric if group == "total" else f"{metric}.{group}"


def _outcome(outcome: str | tuple[str, str]) -> tuple[str, str, str]:
    metric, group = parse_outcome(outcome) if isinstance(outcome, str) else outcome
    return outcome_name(metric, group), metric, group


def _parameter(ema: Any, key: str, factor: Factor) -> Any:
    if factor.integer:
        return ema.IntegerParameter(key, round(factor.low), round(factor.high))
    if factor.scale == "log":
        from scipy import stats

        return ema.RealParameter.from_dist(key, stats.loguniform(factor.low, factor.high))
    return ema.RealParameter(key, factor.low, factor.high)


def _design_of(exp: Experiment) -> Any:
    if exp.design is None:
        raise InputError(exp.file, "sample", "expected [parameters.KEY] or [levers.KEY] ranges "
                         "and a [sample]: the EMA model takes its uncertainties and levers from them")
    return exp.design


def _ema() -> Any:
    try:
        import ema_workbench
    except ImportError:
        raise ImportError("the EMA Workbench adapter needs ema_workbench: "
                          "pip install 'opvang-sim[ema]'") from None
    return ema_workbench
