"""One simulation of a fit, run in a worker process: parameter values to statistics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from sim.calibration.components import Components
from sim.calibration.parameters import Priors
from sim.engine import run_replication
from sim.modelfile import from_mapping, resolve, with_overrides

_STATE: dict[str, Any] = {}  # per worker process: base model, priors, components, seed


def init_worker(model: Path, priors: Priors, components: Components, seed: int) -> None:
    """Load what every simulation of a fit needs, once per worker process."""
    _STATE.update(base=resolve(model), model=str(model), priors=priors,
                  components=components, seed=seed)


def simulate_values(values: dict[str, float], index: int) -> np.ndarray:
    """Simulated statistics of the components for parameter values: replication ``index``."""
    base, priors, components = _STATE["base"], _STATE["priors"], _STATE["components"]
    raw = with_overrides(base, priors.overrides(values, base), _STATE["model"])
    model = from_mapping(raw, _STATE["model"])
    annual = run_replication(model, _STATE["seed"], index, until_year=components.last_year,
                             daily=False).annual
    return components.simulated(annual)


def simulate_task(task: tuple[Any, ...]) -> np.ndarray:
    """A task of the fit: (point on the unit cube, simulation index)."""
    unit, index = task
    return simulate_values(_STATE["priors"].values(unit), index)
