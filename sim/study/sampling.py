"""Sampled designs for global sensitivity analysis: factors with ranges, sampled by SALib.

An experiment file may declare uncertain parameters and policy levers, each a dotted model
key with a range, and a ``[sample]`` method; the sample expands into one scenario per point
(``sample-00001``, ``sample-00002``, ...), each with the factors' values as overrides::

    [sample]
    method = "morris"    # morris, sobol or latin
    n = 10               # morris: trajectories, n x (factors + 1) points
                         # sobol: base sample, a power of 2, n x (factors + 2) points
                         # latin: points
    seed = 12345         # optional; default: the experiment's seed
    levels = 4           # morris only: the grid levels of each factor (even; default 4)

    [parameters."groups.wmo.patience_days"]       # an uncertain parameter
    low = 7.0
    high = 120.0
    scale = "log"        # "linear" (default) or "log": uniform in the logarithm
    why = "waiting outside before giving up; not measured"   # optional

    [levers."facilities.velserpoort.schedule.2021-01-01.places"]   # a policy lever
    low = 28
    high = 56
    integer = true       # rounded to a whole number

A factor takes the conventions of the calibration's priors (``calibration/priors.toml``):
``low``, ``high``, ``scale``, ``integer``, and ``complement``, a key of the same
probability table that is set to one minus the table's other entries. Parameters and levers
are sampled alike; the difference is what they mean (an uncertainty nobody controls, or a
choice), which the sensitivity table and the EMA Workbench adapter (:mod:`sim.study.ema`) keep.

The sample is drawn in the unit cube by SALib with its own generator seeded from ``seed``
(no global random state), then mapped to each factor's range: the same seed gives the same
points, and so the same scenarios and results. Every point's replication *r* uses the
experiment's seed and *r*, so all points see the same clients (common random numbers).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from sim.input.errors import InputError, suggestion
from sim.input.limits import SEED_MAX, out_of_range
from sim.input.schema import build
from sim.model.files import from_mapping, split_dotted, with_overrides
from sim.study.calibration.parameters import Parameter, Priors

METHODS = ("morris", "sobol", "latin")
KINDS = ("parameters", "levers")
POINTS_MAX = 100_000  # scenarios a sample may give
N_MAX = 100_000
LEVELS_MAX = 100
PREFIX = "sample-"


@dataclass(frozen=True)
class SampleSpec:
    """The ``[sample]`` table of an experiment file."""

    method: Literal["morris", "sobol", "latin"]
    n: int
    seed: int | None = None
    levels: int | None = None


@dataclass(frozen=True)
class Factor:
    """A range of one dotted model key (the conventions of the calibration's priors)."""

    low: float
    high: float
    scale: Literal["linear", "log"] = "linear"
    integer: bool = False
    complement: str | None = None
    why: str = ""

    def parameter(self) -> Parameter:
        """The same range as a calibration :class:`~sim.study.calibration.parameters.Parameter`."""
        return Parameter(self.low, self.high, self.why, self.scale, self.integer, self.complement)


@dataclass(frozen=True)
class Design:
    """A sample of factors: the points in the unit cube, in SALib's order."""

    method: str
    n: int
    seed: int
    levels: int | None
    factors: dict[str, Factor]
    kinds: dict[str, str]  # factor -> "parameter" or "lever"
    unit: tuple[tuple[float, ...], ...]  # one row per point, one column per factor

    @property
    def names(self) -> list[str]:
        """The scenario name of each point: ``sample-00001``, ..."""
        return [point_name(i) for i in range(len(self.unit))]

    def values(self, i: int) -> dict[str, float]:
        """The factors' values at point ``i`` (integers rounded; the ends exactly low and high)."""
        values = self.priors().values(np.asarray(self.unit[i]))
        return {k: v if self.factors[k].integer else min(max(v, self.factors[k].low), self.factors[k].high)
                for k, v in values.items()}

    def overrides(self, i: int, base: Mapping[str, Any]) -> dict[str, Any]:
        """The model overrides of point ``i``, complements filled in from ``base``."""
        return self.priors().overrides(self.values(i), base)

    def priors(self) -> Priors:
        """The factors as the calibration's priors (for their mapping from the unit cube)."""
        return Priors({key: f.parameter() for key, f in self.factors.items()})

    def problem(self) -> dict[str, Any]:
        """The SALib problem: every factor on [0, 1] (the sample lives in the unit cube)."""
        return {"num_vars": len(self.factors), "names": list(self.factors),
                "bounds": [[0.0, 1.0]] * len(self.factors)}

    def record(self) -> dict[str, Any]:
        """What the manifest keeps (and the definition hash covers): enough to analyse."""
        return {"method": self.method, "n": self.n, "seed": self.seed, "levels": self.levels,
                "factors": [{"key": key, "kind": self.kinds[key], "low": f.low, "high": f.high,
                             "scale": f.scale, "integer": f.integer, "complement": f.complement}
                            for key, f in self.factors.items()],  # a list: the unit's columns
                "points": len(self.unit),
                "scenarios": f"point i (from 0) is scenario {PREFIX}<i + 1, 5 digits> and row i of "
                             "unit, whose columns are the factors in this order",
                "unit": [list(row) for row in self.unit]}


def from_record(record: Mapping[str, Any]) -> Design:
    """The design a manifest recorded (:meth:`Design.record`)."""
    factors = {f["key"]: Factor(f["low"], f["high"], f["scale"], f["integer"], f["complement"])
               for f in record["factors"]}
    kinds = {f["key"]: f["kind"] for f in record["factors"]}
    return Design(record["method"], record["n"], record["seed"], record["levels"], factors, kinds,
                  tuple(tuple(float(u) for u in row) for row in record["unit"]))


def point_name(i: int) -> str:
    """The scenario of point ``i`` (from 0)."""
    return f"{PREFIX}{i + 1:05d}"


def read_design(raw: Mapping[str, Any], base: Mapping[str, Any], file: str, seed: int) -> Design | None:
    """The ``[sample]``, ``[parameters.KEY]`` and ``[levers.KEY]`` tables of an experiment file,
    checked against the model ``base`` and sampled; None when the file has none of them."""
    if not any(key in raw for key in ("sample", *KINDS)):
        return None
    if "sample" not in raw:
        kind = next(k for k in KINDS if k in raw)
        raise InputError(file, "sample", f"[{kind}] needs a [sample] table with a method "
                         f"({', '.join(METHODS)}) and n")
    spec = build(SampleSpec, raw["sample"], file, "sample")
    factors, kinds = _factors(raw, file)
    _check_spec(spec, len(factors), file)
    check_factors(factors, kinds, base, file)
    chosen = seed if spec.seed is None else spec.seed
    levels = (spec.levels or 4) if spec.method == "morris" else None
    unit = unit_sample(spec.method, spec.n, len(factors), chosen, levels)
    return Design(spec.method, spec.n, chosen, levels, factors, kinds,
                  tuple(tuple(float(u) for u in row) for row in unit))


def unit_sample(method: str, n: int, d: int, seed: int, levels: int | None = None) -> np.ndarray:
    """SALib's sample of ``d`` factors in the unit cube, from a generator seeded with ``seed``."""
    from SALib.sample import latin, morris, sobol  # imported here: only sampled designs need it

    problem = {"num_vars": d, "names": [f"x{i}" for i in range(d)], "bounds": [[0.0, 1.0]] * d}
    rng = np.random.default_rng(seed)
    if method == "morris":
        return np.asarray(morris.sample(problem, n, num_levels=levels or 4, seed=rng))
    if method == "sobol":
        return np.asarray(sobol.sample(problem, n, calc_second_order=False, seed=rng))
    return np.asarray(latin.sample(problem, n, seed=rng))


def points(method: str, n: int, d: int) -> int:
    """How many points a sample of ``d`` factors gives."""
    return {"morris": n * (d + 1), "sobol": n * (d + 2)}.get(method, n)


# --- checks -----------------------------------------------------------------------------


def _factors(raw: Mapping[str, Any], file: str) -> tuple[dict[str, Factor], dict[str, str]]:
    factors: dict[str, Factor] = {}
    kinds: dict[str, str] = {}
    for kind in KINDS:
        table = raw.get(kind, {})
        if not isinstance(table, dict) or not all(isinstance(v, dict) for v in table.values()):
            raise InputError(file, kind, f'expected tables, e.g. [{kind}."groups.wmo.patience_days"] '
                             "with low and high")
        for key, value in table.items():
            if key in factors:
                raise InputError(file, f"{kind}.{key}", f"already a factor in [{kinds[key]}s]")
            factors[key] = build(Factor, value, file, f"{kind}.{key}")
            kinds[key] = kind.removesuffix("s")
    if not factors:
        raise InputError(file, "parameters", "a [sample] needs at least one factor, e.g. "
                         '[parameters."groups.wmo.patience_days"] with low and high')
    return factors, kinds


def _check_spec(spec: SampleSpec, d: int, file: str) -> None:
    low = {"morris": 2, "sobol": 2, "latin": 2}[spec.method]
    problem = out_of_range(spec.n, low, N_MAX)
    if problem:
        raise InputError(file, "sample.n", problem)
    if spec.method == "sobol" and spec.n & (spec.n - 1):
        raise InputError(file, "sample.n", f"a Sobol' sample needs a power of 2, got {spec.n}")
    if spec.seed is not None and (problem := out_of_range(spec.seed, 0, SEED_MAX)):
        raise InputError(file, "sample.seed", problem)
    if spec.levels is not None:
        if spec.method != "morris":
            raise InputError(file, "sample.levels", "levels apply to method morris only")
        if (problem := out_of_range(spec.levels, 2, LEVELS_MAX)) or spec.levels % 2:
            raise InputError(file, "sample.levels", problem or
                             f"expected an even number of levels, got {spec.levels}")
    total = points(spec.method, spec.n, d)
    if total > POINTS_MAX:
        raise InputError(file, "sample.n", f"gives {total:,} points ({d} factors); at most "
                         f"{POINTS_MAX:,}")


def check_factors(factors: Mapping[str, Factor], kinds: Mapping[str, str], base: Mapping[str, Any],
                  file: str) -> None:
    """Every factor names a key of the model ``base`` and both ends of its range give a valid
    model (the others in the middle of theirs); errors name ``file`` and
    ``parameters.KEY`` or ``levers.KEY``."""
    for key, factor in factors.items():
        _check_factor(key, factor, kinds[key], factors, base, file)


def _check_factor(key: str, factor: Factor, kind: str, factors: Mapping[str, Factor],
                  base: Mapping[str, Any], file: str) -> None:
    """The key exists, the range makes sense, and both ends give a valid model."""
    where = f"{kind}s.{key}"
    try:
        with_overrides(base, {key: factor.low}, file)
    except InputError as err:
        raise InputError(file, where, "a key that does not exist in the model"
                         f"{suggestion(err.expected)}") from None
    if not factor.low < factor.high:
        raise InputError(file, where, f"expected low < high, got {factor.low} and {factor.high}")
    if factor.scale == "log" and not factor.low > 0:
        raise InputError(file, f"{where}.low", "a log-scale range needs low > 0")
    if factor.complement is not None:
        _check_complement(key, factor.complement, factors, base, file, where)
    priors = Priors({k: f.parameter() for k, f in factors.items()})
    middle = {k: f.parameter().from_unit(0.5) for k, f in factors.items()}
    for end in (factor.low, factor.high):
        value = float(round(end)) if factor.integer else end
        if not math.isfinite(value):
            raise InputError(file, where, f"expected finite bounds, got {end}")
        try:
            from_mapping(with_overrides(base, priors.overrides(middle | {key: value}, base), file), file)
        except InputError as err:
            raise InputError(file, where, f"bound {end} gives an invalid model: {err.key}: "
                             f"{err.expected}") from None


def _check_complement(key: str, complement: str, factors: Mapping[str, Factor],
                      base: Mapping[str, Any], file: str, where: str) -> None:
    if complement in factors:
        raise InputError(file, f"{where}.complement", f"{complement} is a factor itself")
    if split_dotted(complement)[:-1] != split_dotted(key)[:-1]:
        raise InputError(file, f"{where}.complement", "expected a key of the same table as "
                         f"{key}, e.g. its 'leaves' entry")
    try:
        with_overrides(base, {complement: 0.0}, file, add_entries=False)
    except InputError as err:
        raise InputError(file, f"{where}.complement", f"{complement} does not exist in the "
                         f"model{suggestion(err.expected)}") from None
