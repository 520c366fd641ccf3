"""The simulations of a fit: points on the unit cube to simulated statistics, on any backend."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.batch.backends import Backend
from sim.batch.tasks import Task, Variant, run_task
from sim.study.calibration.components import Components
from sim.study.calibration.parameters import Priors


@dataclass(frozen=True)
class Simulator:
    """Runs a fit's simulations on a backend, results in task order.

    A simulation is (point on the unit cube, simulation index): the prior's values at the
    point applied to the base model (:class:`sim.batch.tasks.Variant`), simulated as replication
    ``index`` of the fit's seed up to the last target year, reduced in the worker to the
    components' statistics. The same tasks give the same rows for any number of workers.
    """

    base: dict[str, Any]  # the resolved base model
    file: str
    priors: Priors
    components: Components
    seed: int
    backend: Backend

    def task(self, unit: np.ndarray, index: int) -> Task:
        """The task of one simulation."""
        draw = self.priors.overrides(self.priors.values(unit), self.base)
        return Task("fit", index, self.seed, Variant(self.base, self.file, draw), tables=(),
                    experiment="calibration", until_year=self.components.last_year,
                    statistic=self.components.simulated)

    def __call__(self, simulations: Sequence[tuple[np.ndarray, int]]) -> np.ndarray:
        """Simulated statistics of each (point, index), stacked as rows in order."""
        tasks = [self.task(unit, index) for unit, index in simulations]
        return np.array([out.statistic for out in self.backend.map(run_task, tasks, ordered=True)],
                        dtype=float)
