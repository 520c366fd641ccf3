"""Fit the free parameters to the targets and write the fit, its check and its summary."""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.batch.backends import Backend, make_backend
from sim.batch.folders import staged_folder
from sim.batch.provenance import git_commit, package_versions
from sim.input.errors import InputError
from sim.model.files import resolve
from sim.study.calibration.abc import Population, abc_pmc, weighted_quantile
from sim.study.calibration.check import identifiability, predictive_check, write_figure
from sim.study.calibration.components import Components, load_components
from sim.study.calibration.parameters import Priors, load_priors
from sim.study.calibration.simulate import Simulator


@dataclass(frozen=True)
class FitSettings:
    """What to fit and how hard."""

    model: Path
    priors: Path
    targets: Path
    components: Path
    particles: int
    generations: int
    seed: int
    workers: int
    check_draws: int
    quantile: float = 0.5
    holdout_years: tuple[int, ...] = ()  # target years left out of the fit and checked after it


@dataclass
class Fit:
    """A finished fit: every generation and the pieces needed to use it."""

    settings: FitSettings
    priors: Priors
    components: Components
    history: list[Population]
    seconds: float

    @property
    def posterior(self) -> Population:
        return self.history[-1]

    def values(self) -> pd.DataFrame:
        """Posterior draws in model units: one column per free parameter."""
        rows = [self.priors.values(p) for p in self.posterior.particles]
        return pd.DataFrame(rows, columns=self.priors.names)

    def draws(self, base: dict[str, Any]) -> pd.DataFrame:
        """Posterior draws as model overrides (complements included) and their weights.

        This is the posterior file format of :mod:`sim.model.posterior`: one column per dotted
        model key, and ``weight``.
        """
        rows = [self.priors.overrides(self.priors.values(p), base)
                for p in self.posterior.particles]
        table = pd.DataFrame(rows)
        table["weight"] = self.posterior.weights
        return table

    def point(self) -> dict[str, float]:
        """Weighted posterior median of each parameter, in model units."""
        values, weights = self.values(), self.posterior.weights
        return {name: _weighted_median(values[name].to_numpy(), weights,
                                       self.priors.parameters[name].integer)
                for name in self.priors.names}


# --- parent side -----------------------------------------------------------------------


def fit(settings: FitSettings, progress: bool = True) -> Fit:
    """Run ABC-PMC for the settings."""
    priors = load_priors(settings.priors, settings.model)
    components = load_components(settings.targets, settings.components, settings.holdout_years)
    started = time.perf_counter()
    with make_backend(settings.workers) as backend:
        history = abc_pmc(simulator(settings, priors, components, backend), components.distance,
                          len(priors.names), settings.particles, settings.generations,
                          settings.seed, settings.quantile, progress=progress)
    return Fit(settings, priors, components, history, time.perf_counter() - started)


def simulator(settings: FitSettings, priors: Priors, components: Components,
              backend: Backend) -> Simulator:
    """The simulations of a fit of ``settings.model`` on ``backend``."""
    return Simulator(resolve(settings.model), str(settings.model), priors, components,
                     settings.seed, backend)


def check_fit_destination(out: Path, replace: bool) -> None:
    """Refuse to replace an existing fit unless asked to."""
    if out.exists() and any(out.iterdir()) and not replace:
        raise InputError(str(out), "", "already holds a fit; pass --replace to replace it")


def write_fit(result: Fit, out: Path, replace: bool, command: str = "",
              progress: bool = True) -> dict[str, Any]:
    """Write the fitted model, posterior draws, predictive check and summary to ``out``."""
    check_fit_destination(out, replace)
    s = result.settings
    with staged_folder(out, replace=replace) as tmp:
        name = s.model.stem
        base = resolve(s.model)
        overrides = result.priors.overrides(result.point(), base)
        write_derived_model(tmp / f"{name}.toml", s.model, out, overrides, result, command)
        result.draws(base).to_parquet(tmp / f"{name}_posterior.parquet", index=False)
        every = load_components(s.targets, s.components)  # the held-out rows are checked too
        with make_backend(s.workers) as backend:
            check = predictive_check(result.posterior, every,
                                     simulator(s, result.priors, every, backend),
                                     s.seed, s.check_draws, progress=progress)
        check["held_out"] = check["year"].isin(s.holdout_years)
        check.to_csv(tmp / "predictive_check.csv", index=False, float_format="%.6g")
        write_figure(check[~check["held_out"]], tmp / "predictive_check.png")
        for year in s.holdout_years:
            held = check[check["held_out"] & (check["year"] == year)]
            held.to_csv(tmp / f"validation_{year}.csv", index=False, float_format="%.6g")
            write_figure(held, tmp / f"validation_{year}.png",
                         f"Fitted without {year}: its observed figures (x) against the prediction")
        ident = identifiability(result.posterior, result.priors)
        ident.to_csv(tmp / "identifiability.csv", index=False, float_format="%.4g")
        summary = fit_summary(result, check, ident, command)
        (tmp / "fit_summary.json").write_text(json.dumps(summary, indent=2))
    return summary


def write_derived_model(path: Path, base: Path, out: Path, overrides: dict[str, Any],
                        result: Fit, command: str) -> None:
    """A model file that is the base model with the fitted point as overrides."""
    relative = os.path.relpath(base.resolve(), out.resolve())
    s = result.settings
    lines = [
        "# Fitted parameters: the weighted posterior median of an ABC-PMC fit to",
        f"# {s.targets} ({result.components.table['weight'].gt(0).sum()} weighted components).",
        f"# {s.particles} particles, {len(result.history)} generations, seed {s.seed}; "
        f"final tolerance {result.posterior.tolerance:.4g}.",
        f"# Written {dt.datetime.now(dt.UTC).date().isoformat()} by: {command or 'opvang calibrate'}",
        "# The draws with their weights are in the posterior parquet file beside this one.",
        "",
        f'base = "{relative}"',
        "",
        "[overrides]",
    ]
    for key, value in overrides.items():
        lines.append(f'"{key}" = {value!r}' if isinstance(value, int) else f'"{key}" = {value:.6g}')
    path.write_text("\n".join(lines) + "\n")


def fit_summary(result: Fit, check: pd.DataFrame, ident: pd.DataFrame,
                command: str) -> dict[str, Any]:
    """Timing, tolerances, coverage and identifiability, for the record."""
    counts = check[(check["weight"] > 0) & ~check["one_sided"] & ~check["held_out"]]
    facts = check[check["one_sided"] & ~check["held_out"]]
    held = check[check["held_out"] & (check["weight"] > 0) & ~check["one_sided"]]
    return {
        "command": command,
        "seconds": round(result.seconds, 1),
        "simulations": int(sum(p.simulations for p in result.history)),
        "generations": [{"tolerance": p.tolerance, "acceptance": round(p.acceptance, 4),
                         "effective_size": round(p.effective_size(), 1),
                         "median_distance": float(np.median(p.distances)),
                         "seconds": round(p.seconds, 1)} for p in result.history],
        "coverage95": {"inside": int(counts["inside95"].sum()), "of": len(counts)},
        "facts_met": {"median_at_or_above": int((facts["median"] >= facts["observed"]).sum()),
                      "of": len(facts)},
        "validation95": {"inside": int(held["inside95"].sum()), "of": len(held),
                         "years": list(result.settings.holdout_years)},
        "constrained_parameters": ident.loc[ident["constrained"], "parameter"].tolist(),
        "settings": {k: str(v) for k, v in vars(result.settings).items()},
        "versions": package_versions(),
        "git_commit": git_commit(),
    }


def _weighted_median(values: np.ndarray, weights: np.ndarray, integer: bool) -> float:
    value = weighted_quantile(values, weights, 0.5)
    return float(round(value)) if integer else value
