"""Free parameters: priors on model keys, mapped to and from the unit cube."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from sim.input.errors import InputError
from sim.input.schema import build
from sim.model.files import from_mapping, read_toml, resolve, split_dotted, with_overrides


@dataclass(frozen=True)
class Parameter:
    """A uniform (or log-uniform) prior on one dotted model key."""

    low: float
    high: float
    why: str
    scale: Literal["linear", "log"] = "linear"
    integer: bool = False
    complement: str | None = None

    def from_unit(self, u: float) -> float:
        """The value at position ``u`` in [0, 1] of the prior's range."""
        if self.scale == "log":
            value = math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        else:
            value = self.low + u * (self.high - self.low)
        return float(round(value)) if self.integer else value

    def to_unit(self, value: float) -> float:
        """Inverse of :meth:`from_unit` (up to rounding)."""
        if self.scale == "log":
            return (math.log(value) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))
        return (value - self.low) / (self.high - self.low)


@dataclass(frozen=True)
class Priors:
    """The free parameters of a calibration, in file order."""

    parameters: dict[str, Parameter]

    @property
    def names(self) -> list[str]:
        return list(self.parameters)

    def values(self, unit: np.ndarray) -> dict[str, float]:
        """Parameter values of one point of the unit cube."""
        return {name: p.from_unit(float(u)) for (name, p), u in zip(
            self.parameters.items(), unit, strict=True)}

    def overrides(self, values: Mapping[str, float], base: Mapping[str, Any]) -> dict[str, Any]:
        """Model overrides for parameter values, with complements filled in."""
        out: dict[str, Any] = {}
        for name, value in values.items():
            p = self.parameters[name]
            out[name] = int(value) if p.integer else float(value)
        for p in self.parameters.values():
            if p.complement is None:
                continue
            table_key = split_dotted(p.complement)[:-1]
            table = _lookup(base, table_key)
            prefix = ".".join(table_key)
            others = sum(float(out.get(f"{prefix}.{k}", v)) for k, v in table.items()
                         if f"{prefix}.{k}" != p.complement)
            out[p.complement] = max(0.0, 1.0 - others)
        return out


def load_priors(path: str | Path, base_model: str | Path) -> Priors:
    """Read the priors and check each key against the base model (errors name file and key)."""
    path = Path(path)
    raw = read_toml(path)
    priors = build(Priors, raw, str(path))
    base = resolve(Path(base_model))
    for name, p in priors.parameters.items():
        key = f"parameters.{name}"
        if not p.low < p.high:
            raise InputError(str(path), key, f"expected low < high, got {p.low} and {p.high}")
        if p.scale == "log" and p.low <= 0:
            raise InputError(str(path), f"{key}.low", "a log-scale prior needs low > 0")
        for value in (p.low, p.high):
            try:
                overrides = priors.overrides({n: q.low for n, q in priors.parameters.items()}
                                             | {name: value}, base)
                from_mapping(with_overrides(base, overrides, str(path)), str(base_model))
            except InputError as err:
                raise InputError(str(path), key, f"bound {value} gives an invalid model: "
                                 f"{err.key}: {err.expected}") from None
    return priors


def _lookup(raw: Mapping[str, Any], parts: list[str]) -> Mapping[str, Any]:
    node: Any = raw
    for part in parts:
        node = node[part]
    return node
