"""The ``[optimise]`` table of an experiment file: decision variables, objectives, constraints.

::

    [optimise]
    trials = 40                 # candidates the search asks for (the baseline comes on top)
    batch = 8                   # candidates asked per round; evaluated together, told in order
    sampler = "auto"            # tpe (one objective), nsga2 (several), random; auto chooses
    years = [2026, 2030]        # default years of the objectives and constraints
    select = { best = 5, delta = 25.0, alpha = 0.05, max_replications = 100, batch = 10 }
    # select.include_baseline = false: pick among the searched mixes only (the baseline is the
    # comparison, e.g. when every searched mix has single rooms and the baseline has not)

    [optimise.variables."facilities.wilhelminastraat.schedule.2025-01-01.places"]
    low = 15
    high = 45
    step = 5                    # integers when low, high and step are (places, quotas)
    [optimise.variables."facilities.wilhelminastraat.schedule.2025-01-01.room_type"]
    choices = ["dormitory", "single"]

    [[optimise.objectives]]     # the first is the one the selection stage ranks on
    metric = "street_nights"
    group = "total"
    sense = "minimise"          # or maximise

    [[optimise.constraints]]    # on the mean over the evaluation's replications
    metric = "cost_eur"
    groups = ["maatschappelijke_opvang", "housing_first"]   # summed per year (or group = "...")
    at_most = 1_000_000
    relative_to = "baseline"    # the baseline scenario's mean plus at_most (default: absolute)

A constraint "spending at most the national budget plus x" is ``metric = "budget_gap_eur"``
(spending minus the budget of the line) with ``at_most = x``. Each candidate is a scenario of
the experiment: the decision values are its overrides. The metric names are checked against
the baseline's yearly table when the search starts (the table's names are only known then).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from sim.input.errors import InputError
from sim.input.limits import REPLICATIONS_MAX, SEED_MAX, YEAR_MAX, out_of_range
from sim.input.schema import build
from sim.model.files import from_mapping, with_overrides

TRIALS_MAX = 100_000
Value = int | float | str | bool


@dataclass(frozen=True)
class Variable:
    """A decision variable: a model key with a range (and step), or a set of choices."""

    low: int | float | None = None
    high: int | float | None = None
    step: int | float | None = None
    choices: tuple[int | float | str | bool, ...] = ()

    @property
    def integer(self) -> bool:
        """Integer steps (places, quotas): low, high and step (when given) are integers."""
        return all(isinstance(v, int) for v in (self.low, self.high, self.step) if v is not None)

    def values(self) -> list[Value]:
        """Every value the variable can take (the grid's axis; a range needs a step)."""
        if self.choices:
            return list(self.choices)
        assert self.low is not None and self.high is not None and self.step is not None
        n = math.floor((self.high - self.low) / self.step + 1e-9)
        points = [self.low + i * self.step for i in range(n + 1)]
        return [int(p) for p in points] if self.integer else [round(float(p), 12) for p in points]


@dataclass(frozen=True)
class Measure:
    """A yearly metric of one group (or the sum of ``groups``), averaged over years, then over
    replications."""

    metric: str
    group: str = "total"
    years: tuple[int, ...] = ()  # [first, last]; default the [optimise] years
    groups: tuple[str, ...] = ()  # summed per year, e.g. two budget lines; replaces group

    @property
    def summed(self) -> tuple[str, ...]:
        """The groups whose values are added up per year."""
        return self.groups or (self.group,)

    @property
    def name(self) -> str:
        """``metric:group`` (``metric:a+b`` for a sum of groups)."""
        return f"{self.metric}:{'+'.join(self.summed)}"


@dataclass(frozen=True)
class Objective(Measure):
    sense: Literal["minimise", "maximise"] = "minimise"


@dataclass(frozen=True)
class Constraint(Measure):
    at_most: float | None = None
    at_least: float | None = None
    relative_to: Literal["", "baseline"] = ""


@dataclass(frozen=True)
class Selection:
    """The ranking-and-selection stage among the best candidates (:mod:`.selection`)."""

    delta: float  # indifference zone in the first objective's units
    best: int = 5
    alpha: float = 0.05
    max_replications: int = 100  # per candidate in the selection stage (after the search)
    batch: int = 10  # replications added per round (elimination still checks each one)
    include_baseline: bool = True  # false: the baseline is compared against, never selected


@dataclass(frozen=True)
class Optimise:
    """The validated ``[optimise]`` table."""

    variables: dict[str, Variable]
    objectives: tuple[Objective, ...]
    select: Selection
    constraints: tuple[Constraint, ...] = ()
    trials: int = 40
    batch: int = 8
    sampler: Literal["auto", "tpe", "nsga2", "random"] = "auto"
    seed: int | None = None
    years: tuple[int, ...] = ()

    @property
    def measures(self) -> tuple[Measure, ...]:
        """The objectives, then the constraints."""
        return (*self.objectives, *self.constraints)

    def sampler_name(self) -> str:
        """The sampler used: ``auto`` is TPE for one objective, NSGA-II for several."""
        if self.sampler != "auto":
            return self.sampler
        return "tpe" if len(self.objectives) == 1 else "nsga2"

    def record(self) -> dict[str, Any]:
        """What defines the search (part of the definition hash of its results)."""
        return {"variables": {k: vars(v) | {"choices": list(v.choices)} for k, v in self.variables.items()},
                "objectives": [vars(o) | {"years": list(o.years), "groups": list(o.groups)}
                               for o in self.objectives],
                "constraints": [vars(c) | {"years": list(c.years), "groups": list(c.groups)}
                                for c in self.constraints],
                "trials": self.trials, "batch": self.batch, "sampler": self.sampler_name(),
                "seed": self.seed, "select": vars(self.select)}


def read_optimise(raw: Any, base: dict[str, Any], file: str, seed: int,
                  first_year: int, last_year: int) -> Optimise:
    """Build and check ``[optimise]``: every key must be a model key whose values all give a
    valid model, years inside the simulated ones, sizes in range."""
    if not isinstance(raw, dict):
        raise InputError(file, "optimise", "expected a table [optimise]")
    spec = build(Optimise, raw, file, "optimise")
    if not spec.variables:
        raise InputError(file, "optimise.variables", "expected at least one decision variable, e.g. "
                         '[optimise.variables."facilities.NAME.schedule.2025-01-01.places"]')
    if not spec.objectives:
        raise InputError(file, "optimise.objectives", "expected at least one [[optimise.objectives]]")
    _check_sizes(spec, file)
    years = _years(spec.years, file, "optimise.years", first_year, last_year) or (first_year, last_year)
    for key, variable in spec.variables.items():
        _check_variable(key, variable, base, file)
    objectives = tuple(_with_years(o, years, file, f"optimise.objectives[{i}]", first_year, last_year)
                       for i, o in enumerate(spec.objectives))
    constraints = tuple(_constraint(c, years, file, i, first_year, last_year)
                        for i, c in enumerate(spec.constraints))
    return Optimise(spec.variables, objectives, spec.select, constraints, spec.trials, spec.batch,
                    spec.sampler, seed if spec.seed is None else spec.seed, years)


def _check_sizes(spec: Optimise, file: str) -> None:
    sel = spec.select
    ranges: dict[str, tuple[int | None, int, int]] = {
        "optimise.trials": (spec.trials, 1, TRIALS_MAX), "optimise.batch": (spec.batch, 1, TRIALS_MAX),
        "optimise.seed": (spec.seed, 0, SEED_MAX), "optimise.select.best": (sel.best, 2, 1000),
        "optimise.select.max_replications": (sel.max_replications, 2, REPLICATIONS_MAX),
        "optimise.select.batch": (sel.batch, 1, REPLICATIONS_MAX)}
    for key, (value, low, high) in ranges.items():
        problem = None if value is None else out_of_range(value, low, high)
        if problem:
            raise InputError(file, key, problem)
    if not sel.delta > 0:
        raise InputError(file, "optimise.select.delta", f"expected a positive number (the "
                         f"indifference zone, in the first objective's units), got {sel.delta}")
    if not 0 < sel.alpha < 0.5:
        raise InputError(file, "optimise.select.alpha", f"expected a number in (0, 0.5), got {sel.alpha}")


def _check_variable(key: str, var: Variable, base: dict[str, Any], file: str) -> None:
    where = f'optimise.variables."{key}"'
    if var.choices and any(v is not None for v in (var.low, var.high, var.step)):
        raise InputError(file, where, "expected either choices or low/high/step, not both")
    if not var.choices:
        if var.low is None or var.high is None:
            raise InputError(file, where, "expected low and high (and step), or choices = [...]")
        if not var.low < var.high:
            raise InputError(file, where, f"expected low < high, got {var.low} and {var.high}")
        if var.step is not None and not 0 < var.step <= var.high - var.low:
            raise InputError(file, f"{where}.step", f"expected a step in (0, high - low], got {var.step}")
        if var.step is None and var.integer:
            raise InputError(file, f"{where}.step", "expected a step for an integer range (e.g. 1)")
    elif len(set(map(repr, var.choices))) != len(var.choices):
        raise InputError(file, f"{where}.choices", "expected distinct values")
    extremes = var.choices or (var.low, var.high)
    for value in extremes:
        try:
            from_mapping(with_overrides(base, {key: value}, file), file)
        except InputError as err:
            raise InputError(file, where, f"the value {value!r} gives an invalid model "
                             f"({err.key}: {err.expected}); a key must exist in the model (a new "
                             "date under a schedule or a channel's dated is allowed)") from None


def _years(years: tuple[int, ...], file: str, key: str, first: int, last: int) -> tuple[int, int] | None:
    if not years:
        return None
    if len(years) != 2 or not first <= years[0] <= years[1] <= min(last, YEAR_MAX):
        raise InputError(file, key, f"expected [FIRST, LAST] within the simulated years {first}-{last}, "
                         f"got {list(years)}")
    return years[0], years[1]


def _with_years(m: Any, default: tuple[int, int], file: str, key: str, first: int, last: int) -> Any:
    if m.groups and len(set(m.groups)) != len(m.groups):
        raise InputError(file, f"{key}.groups", f"expected distinct groups, got {list(m.groups)}")
    years = _years(m.years, file, f"{key}.years", first, last) or default
    return type(m)(**(vars(m) | {"years": years}))


def _constraint(c: Constraint, default: tuple[int, int], file: str, i: int, first: int,
                last: int) -> Constraint:
    key = f"optimise.constraints[{i}]"
    if (c.at_most is None) == (c.at_least is None):
        raise InputError(file, key, "expected one bound: at_most or at_least")
    return _with_years(c, default, file, key, first, last)
