"""Experiment files: a base model, named scenarios as overrides, grids, replications, seed.

``experiments/NAME.toml`` (paths are relative to the experiment file)::

    model = "../models/haarlem.toml"
    replications = 20
    seed = 20190101
    baseline = "baseline"          # default: the first scenario
    tables = ["annual"]            # any of annual, daily, events
    posterior = "../calibration/fitted/haarlem_posterior.parquet"   # optional

    [horizon]                      # optional: simulation.end_year and warmup_years
    end_year = 2025

    [scenarios.baseline]           # no overrides
    [scenarios.fewer_places]
    "facilities.velserpoort.schedule.2021-01-01.places" = 28

    [grids.rooms]                  # the product of the values, one scenario per point
    "facilities.velserpoort.schedule.2021-01-01.room_type" = ["single", "two-person"]
    "facilities.velserpoort.schedule.2021-01-01.places" = [28, 42]

A grid's scenarios are named ``GRID__KEY-VALUE__...`` by default, KEY the shortest trailing
part of the dotted key that tells the grid's keys apart (``rooms__room_type-single__places-28``).
Two optional keys of a grid make the names readable::

    [grids.gain]
    "recovery.room_type.single" = [1.1, 1.32, 1.54]
    labels.single = ["none", "plus20", "plus40"]   # a name per value (KEY: short or dotted)
    label = "single_rooms-{single}"                # the whole name: {KEY} is the value, or its
                                                   # name from labels; here single_rooms-plus20

A scenario may add a dated entry that the model does not have yet, as a derived model file
may. This adds that date to the schedule (the entry's other fields as before the date)::

    "facilities.velserpoort.schedule.2025-01-01.places" = 21

and this a dated change of a channel::

    "channels.housing_first.dated.2025-01-01.haarlem" = 20

An experiment may also be a sampled design for global sensitivity analysis: ``[sample]``
with ``[parameters.KEY]`` and ``[levers.KEY]`` ranges (:mod:`sim.study.sampling`); each point of
the sample becomes a scenario ``sample-00001``, ... after the named ones.

Everything is checked here, before anything runs: every override must name a key of the
model, every scenario must give a valid model, and each error names the file and the key.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
from collections.abc import Container, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sim.batch.tasks import Task, Variant
from sim.input.errors import InputError, did_you_mean, suggestion
from sim.input.limits import REPLICATIONS_MAX, SEED_MAX, WARMUP_YEARS_MAX, YEAR_MAX, out_of_range
from sim.input.schema import build
from sim.model.dated import idle_entries, idle_overrides, warning
from sim.model.files import from_mapping, model_hash, read_toml, resolve, split_dotted, with_overrides
from sim.model.posterior import Posterior, check_draws, read_posterior
from sim.model.root import Model
from sim.study.optimise.spec import Optimise, read_optimise
from sim.study.sampling import Design, read_design

TABLES = ("annual", "daily", "events")
NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]*")
TOP_KEYS = ("name", "description", "model", "replications", "seed", "baseline", "tables",
            "posterior", "horizon", "scenarios", "grids", "sample", "parameters", "levers", "optimise")
TABLE_KEYS = ("scenarios", "grids", "sample", "parameters", "levers", "optimise")  # read on their own
GRID_KEYS = ("label", "labels")  # a grid's naming, not model keys
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True)
class Horizon:
    """The simulated years: the last reported year and the warm-up before the start."""

    end_year: int | None = None
    warmup_years: int | None = None


@dataclass(frozen=True)
class Spec:
    """The experiment file's own settings (scenarios and grids are read separately)."""

    model: str
    replications: int
    seed: int
    name: str = ""
    description: str = ""
    baseline: str = ""
    tables: tuple[Literal["annual", "daily", "events"], ...] = ("annual",)
    posterior: str = ""
    horizon: Horizon | None = None


@dataclass(frozen=True)
class Scenario:
    """A named variant of the base model: its overrides and the resolved model."""

    name: str
    overrides: dict[str, Any]
    model: Model
    hash: str
    origin: str  # where the file defines it: "scenarios.NAME" or "grids.NAME"


@dataclass(frozen=True)
class Experiment:
    """A validated experiment: scenarios x replications, one seed."""

    name: str
    file: str
    description: str
    model_file: str
    baseline: str
    replications: int
    seed: int
    tables: tuple[str, ...]
    horizon: dict[str, int]
    scenarios: dict[str, Scenario]
    posterior: Posterior | None = None
    base: dict[str, Any] = field(default_factory=dict, repr=False)  # raw model, horizon applied
    design: Design | None = None  # a sampled design: its points are the scenarios sample-*
    optimise: Optimise | None = None  # an [optimise] table: a search over its decision variables


def read_experiment(path: str | Path) -> Experiment:
    """Read, expand and validate an experiment file."""
    path = Path(path)
    file = str(path)
    raw = read_toml(path)
    unknown = sorted(set(raw) - set(TOP_KEYS))
    if unknown:
        raise InputError(file, unknown[0], f"unknown key; expected one of {', '.join(TOP_KEYS)}"
                         f"{did_you_mean(unknown[0], TOP_KEYS)}")
    spec = build(Spec, {k: v for k, v in raw.items() if k not in TABLE_KEYS}, file)
    name = spec.name or name_of(path)
    _check_spec(spec, name, file)
    model_path = _referenced(path, spec.model, "model")
    base = resolve(model_path)  # a full model file, or a derived one (base + overrides)
    from_mapping(base, str(model_path))  # errors in the model itself name the model file
    horizon = {k: v for k, v in vars(spec.horizon or Horizon()).items() if v is not None}
    base = _with_horizon(base, horizon, file)
    design = read_design(raw, base, file, spec.seed)
    scenarios = _scenarios(raw, base, design, file, str(model_path))
    baseline = spec.baseline or next(iter(scenarios))
    if baseline not in scenarios:
        raise InputError(file, "baseline", f"expected one of the scenarios: {_listed(scenarios)}")
    optimise = None
    if "optimise" in raw:
        simulation = scenarios[baseline].model.simulation
        optimise = read_optimise(raw["optimise"], base, file, spec.seed, simulation.start.year,
                                 simulation.end_year)
    posterior = None
    if spec.posterior:
        posterior = read_posterior(_referenced(path, spec.posterior, "posterior"))
        most = spec.replications + (optimise.select.max_replications if optimise else 0)
        check_draws(posterior, base, file, spec.seed, most,
                    {name: s.overrides for name, s in scenarios.items()})
    return Experiment(name, file, spec.description, str(model_path), baseline, spec.replications,
                      spec.seed, tuple(spec.tables), horizon, scenarios, posterior, base, design,
                      optimise)


def _scenarios(raw: Mapping[str, Any], base: dict[str, Any], design: Design | None, file: str,
               model_file: str) -> dict[str, Scenario]:
    """The named scenarios, the grids' points and the sample's points, each resolved."""
    overrides = _named(raw.get("scenarios", {}), file)
    _grids(raw.get("grids", {}), file, overrides)
    if design is not None:
        for i, point in enumerate(design.names):
            if point in overrides:
                raise InputError(file, overrides[point][0], f"the name {point!r} belongs to the "
                                 "points of the [sample]; choose another")
            overrides[point] = ("sample", design.overrides(i, base))
    if not overrides:
        raise InputError(file, "scenarios", "expected at least one scenario, e.g. [scenarios.baseline]")
    _check_keys(base, overrides, file, model_file)
    scenarios = {}
    for sname, (origin, changes) in overrides.items():
        try:
            model = _resolve(base, changes, file, origin)
        except InputError as err:
            if origin != "sample":
                raise
            raise InputError(file, "sample", f"point {sname} gives an invalid model: "
                             f"{err.key.removeprefix('sample.')}: {err.expected}") from None
        _check_acts(model, changes, file, origin)
        scenarios[sname] = Scenario(sname, changes, model, model_hash(model), origin)
    return scenarios


def scenario(exp: Experiment, name: str, overrides: dict[str, Any], origin: str) -> Scenario:
    """A scenario added to ``exp`` (a candidate of a search): its overrides on the base model,
    resolved and checked (an :class:`InputError` naming ``origin`` when the model is invalid)."""
    model = _resolve(exp.base, overrides, exp.file, origin)
    return Scenario(name, dict(overrides), model, model_hash(model), origin)


def _check_acts(model: Model, changes: dict[str, Any], file: str, origin: str) -> None:
    """Refuse a scenario's override of a dated entry that cannot act within the horizon: the
    scenario would equal its base (a sample's factors are only warned about: a screening may
    include one on purpose, :func:`warnings`)."""
    if origin == "sample":
        return
    for key, why in idle_overrides(model, list(changes)).items():
        raise InputError(file, f"{origin}.{key}", f"{why}: it has no effect, so the scenario would "
                         "equal its base; date it within the horizon, or extend the horizon")


def warnings(exp: Experiment) -> list[str]:
    """What an experiment runs that cannot act, one line each: dated entries of its model cut
    off by its horizon (a model reused with a shorter horizon: a warning, not an error), and
    factors of its sample that set such an entry."""
    base = from_mapping(exp.base, exp.file)
    out = []
    idle = idle_entries(base)
    if idle:
        out.append(warning(base, f"{exp.model_file} (with the horizon of {exp.file})", idle))
    factors = idle_overrides(base, list(exp.design.factors)) if exp.design is not None else {}
    if factors:
        out.append(warning(base, exp.file, factors, what="factors"))
    return out


def _listed(names: Mapping[str, Any], most: int = 12) -> str:
    shown = list(itertools.islice(names, most))
    return ", ".join(shown) + (f", ... ({len(names)} in all)" if len(names) > most else "")


def tasks(exp: Experiment, skip: Container[tuple[str, int]] = (),
          replications: Iterable[int] | None = None) -> Iterator[Task]:
    """Every (scenario, replication) not in ``skip``, replication by replication, built lazily
    (``replications``: these indices instead of ``0..replications-1``).

    With a posterior, the worker builds each model from the base model, the replication's
    draw and the scenario's overrides (:class:`sim.batch.tasks.Variant`).
    """
    for r in range(exp.replications) if replications is None else replications:
        draw = exp.posterior.overrides(exp.posterior.draw(exp.seed, r)) if exp.posterior else None
        for scenario in exp.scenarios.values():
            if (scenario.name, r) in skip:
                continue
            model = (scenario.model if draw is None
                     else Variant(exp.base, exp.file, draw, scenario.overrides))
            yield Task(scenario.name, r, exp.seed, model, exp.tables, exp.name)


def definition(exp: Experiment) -> dict[str, Any]:
    """What determines the results (hashed to tell a changed experiment from a resumed one)."""
    post = exp.posterior
    return {
        "experiment": exp.name,
        "seed": exp.seed,
        "replications": exp.replications,
        "tables": list(exp.tables),
        "scenarios": {name: s.hash for name, s in exp.scenarios.items()},
        "posterior": None if post is None else {"sha256": post.sha256, "columns": list(post.columns)},
    } | ({} if exp.design is None else {"sample": exp.design.record()})  # no key: hashes as before


def definition_hash(exp: Experiment) -> str:
    """A stable hash of :func:`definition`."""
    text = json.dumps(definition(exp), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# --- parsing ----------------------------------------------------------------------------


def _check_spec(spec: Spec, name: str, file: str) -> None:
    if not NAME.fullmatch(name):
        raise InputError(file, "name", f"expected letters, digits, _ . + - (a folder name), got {name!r}")
    horizon = spec.horizon or Horizon()
    ranges: dict[str, tuple[int | None, int, int]] = {
        "replications": (spec.replications, 1, REPLICATIONS_MAX), "seed": (spec.seed, 0, SEED_MAX),
        "horizon.end_year": (horizon.end_year, 1, YEAR_MAX),
        "horizon.warmup_years": (horizon.warmup_years, 0, WARMUP_YEARS_MAX)}
    for key, (value, low, high) in ranges.items():
        problem = None if value is None else out_of_range(value, low, high)
        if problem:
            raise InputError(file, key, problem)
    if not spec.tables or len(set(spec.tables)) != len(spec.tables):
        raise InputError(file, "tables", f"expected distinct names among {', '.join(TABLES)}")


def name_of(path: Path) -> str:
    """The experiment name a file without a ``name`` gets: its file name, each character
    that cannot be in a folder name (a space, an accent) replaced by ``_``
    (``my experiment.toml`` -> ``my_experiment``)."""
    name = _label(path.stem)
    return name if NAME.fullmatch(name) else f"_{name}"


def _referenced(path: Path, name: str, key: str) -> Path:
    """A file named by the experiment, relative to it; it must exist."""
    referenced = Path(os.path.normpath(path.parent / name))
    if not referenced.is_file():
        raise InputError(str(path), key, f"no such file: {referenced} (paths are relative to "
                         "the experiment file)")
    return referenced


def _with_horizon(base: dict[str, Any], horizon: dict[str, int], file: str) -> dict[str, Any]:
    out = with_overrides(base, {f"simulation.{k}": v for k, v in horizon.items()}, file)
    try:
        from_mapping(out, file)
    except InputError as err:
        key = err.key.removeprefix("simulation.")
        raise InputError(file, f"horizon.{key}" if key in horizon else "horizon",
                         err.expected) from None
    return out


def _flatten(table: Mapping[str, Any], file: str, origin: str,
             prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Dotted keys and leaf values of a table; top-level keys are dotted paths already.

    An empty table below the top would override nothing, silently: it is refused.
    """
    for key, value in table.items():
        part = f'"{key}"' if prefix and "." in key else key
        dotted = f"{prefix}.{part}" if prefix else part
        if isinstance(value, dict) and not value:
            raise InputError(file, f"{origin}.{dotted}", "an empty table overrides nothing; give "
                             "the keys to change with their values")
        if isinstance(value, dict):
            yield from _flatten(value, file, origin, dotted)
        else:
            yield dotted, value


def _tables(value: Any, file: str, key: str) -> dict[str, dict[str, Any]]:
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise InputError(file, key, "expected tables, e.g. [" + key + ".NAME]")
    for name in value:
        if not NAME.fullmatch(name):
            raise InputError(file, f"{key}.{name}",
                             "expected a name of letters, digits, _ . + - (it becomes a folder name)")
    return value


def _named(value: Any, file: str) -> dict[str, tuple[str, dict[str, Any]]]:
    """``[scenarios.NAME]`` tables: name -> (origin, overrides)."""
    return {name: (f"scenarios.{name}", dict(_flatten(table, file, f"scenarios.{name}")))
            for name, table in _tables(value, file, "scenarios").items()}


def _grids(value: Any, file: str, out: dict[str, tuple[str, dict[str, Any]]]) -> None:
    """``[grids.NAME]`` tables expanded into ``out``, one scenario per point of the product."""
    for grid, table in _tables(value, file, "grids").items():
        origin = f"grids.{grid}"
        axes = dict(_flatten({k: v for k, v in table.items() if k not in GRID_KEYS}, file, origin))
        if not axes:
            raise InputError(file, origin, "expected at least one key with a list of values")
        for key, values in axes.items():
            if not isinstance(values, list) or not values:
                raise InputError(file, f"{origin}.{key}", f"expected a non-empty list of values, "
                                 f"got {values!r}")
        short = _short_keys(list(axes))
        names = _value_names(table.get("labels", {}), axes, short, file, origin)
        label = table.get("label")
        if label is not None and not isinstance(label, str):
            raise InputError(file, f"{origin}.label", f"expected a string, got {label!r}")
        for index in itertools.product(*(range(len(v)) for v in axes.values())):
            point = [names[k][i] for k, i in zip(axes, index, strict=True)]
            name = ("__".join([grid, *(f"{s}-{v}" for s, v in zip(short, point, strict=True))])
                    if label is None else _from_template(label, dict(zip(short, point, strict=True)),
                                                         dict(zip(axes, point, strict=True)), file, origin))
            if name in out:
                raise InputError(file, f"{origin}.label" if label else origin, f"gives the scenario "
                                 f"name {name!r}, already used by {out[name][0]}")
            out[name] = (origin, {k: axes[k][i] for k, i in zip(axes, index, strict=True)})


def _value_names(labels: Any, axes: dict[str, list[Any]], short: list[str], file: str,
                 origin: str) -> dict[str, list[str]]:
    """Each axis's values as name parts: ``labels.KEY`` where the grid gives them, else the value."""
    where = f"{origin}.labels"
    if not isinstance(labels, dict):
        raise InputError(file, where, "expected a table: labels.KEY = [a name per value]")
    by_short = dict(zip(short, axes, strict=True))
    names = {key: [_label(v) for v in values] for key, values in axes.items()}
    for given, value in labels.items():
        key = by_short.get(given, given) if given not in axes else given
        if key not in axes:
            raise InputError(file, f"{where}.{given}", f"not a key of this grid; expected one of "
                             f"{', '.join(short)} (or the dotted keys){did_you_mean(given, short)}")
        if (not isinstance(value, list) or len(value) != len(axes[key])
                or not all(isinstance(v, str | int) and not isinstance(v, bool) for v in value)):
            raise InputError(file, f"{where}.{given}", f"expected a list of {len(axes[key])} names, "
                             f"one per value, got {value!r}")
        for part in map(str, value):
            if not NAME.fullmatch(part):
                raise InputError(file, f"{where}.{given}", f"expected names of letters, digits, "
                                 f"_ . + - (they become folder names), got {part!r}")
        names[key] = [str(v) for v in value]
    return names


def _from_template(label: str, by_short: dict[str, str], by_key: dict[str, str], file: str,
                   origin: str) -> str:
    """A grid point's name from its ``label`` template: ``{KEY}`` is the value's name."""
    def fill(match: re.Match[str]) -> str:
        part = match[1]
        if part in by_short or part in by_key:
            return by_short.get(part) or by_key[part]
        raise InputError(file, f"{origin}.label", f"{{{part}}} is not a key of this grid; "
                         f"expected one of {', '.join('{' + k + '}' for k in by_short)}"
                         f"{did_you_mean(part, by_short, '{{{}}}')}")

    name = PLACEHOLDER.sub(fill, label)
    if not NAME.fullmatch(name):
        raise InputError(file, f"{origin}.label", f"gives {name!r}; expected a name of letters, "
                         "digits, _ . + - (it becomes a folder name)")
    return name


def _short_keys(keys: list[str]) -> list[str]:
    """The shortest trailing parts of the dotted keys that still tell them apart."""
    parts = [split_dotted(k) for k in keys]
    for n in range(1, max(len(p) for p in parts) + 1):
        short = [".".join(p[-n:]) for p in parts]
        if len(set(short)) == len(short):
            return short
    return keys


def _label(value: Any) -> str:
    text = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return re.sub(r"[^A-Za-z0-9_.+-]", "_", text)


# --- validation -------------------------------------------------------------------------


def _check_keys(base: dict[str, Any], scenarios: dict[str, tuple[str, dict[str, Any]]],
                file: str, model_file: str) -> None:
    """Every overridden key must exist in the model; report it where the file writes it."""
    seen: set[str] = set()
    for origin, changes in scenarios.values():
        for key, value in changes.items():
            if key in seen:
                continue
            seen.add(key)
            try:
                with_overrides(base, {key: value}, file)
            except InputError as err:
                raise InputError(file, f"{origin}.{key}", f"override of a key that does not exist "
                                 f"in {model_file}{suggestion(err.expected)}") from None


def _resolve(base: dict[str, Any], changes: dict[str, Any], file: str, origin: str) -> Model:
    try:
        return from_mapping(with_overrides(base, changes, file), file)
    except InputError as err:
        raise InputError(file, f"{origin}.{err.key}" if err.key else origin, err.expected) from None
