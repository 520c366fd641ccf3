"""Approximate Bayesian computation by population Monte Carlo (ABC-PMC).

Beaumont, Cornuet, Marin and Robert (2009): generation 0 samples the prior; each later
generation sets its tolerance at a quantile of the previous distances, proposes particles
from the previous weighted population moved by a Gaussian kernel with twice its weighted
covariance, keeps proposals whose simulation lies within the tolerance, and weights them by
prior / proposal density. Parameters live on the unit cube, where the priors are uniform. The
kernel moves each parameter apart (Toni et al. 2009), by a normal with twice its weighted
variance, and reflects a move that leaves [0, 1] back at the face, so every proposal lands
inside the cube and the proposal density is exact (the sum over the reflected images). With
40 parameters, rejecting moves outside the cube would reject almost all of them; a kernel in
logit space gave weights so uneven that one particle carried a generation.

Every simulation has its own seed, drawn in order from the fit's seed, and proposals are
simulated in batches whose size follows the acceptance so far and whose results are used in
order: a generation stops close to its particle count, and the fit is the same for any number
of workers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from sim.engine.streams import Streams

Simulate = Callable[[Sequence[tuple[np.ndarray, int]]], np.ndarray]  # (point, index) -> rows, in order


@dataclass
class Population:
    """One generation: particles on the unit cube, their weights and distances."""

    particles: np.ndarray  # (n, d)
    weights: np.ndarray  # (n,), summing to 1
    distances: np.ndarray  # (n,)
    tolerance: float
    simulations: int  # simulations run for this generation
    seconds: float

    @property
    def acceptance(self) -> float:
        return len(self.particles) / self.simulations

    def effective_size(self) -> float:
        return float(1.0 / np.sum(self.weights ** 2))


def abc_pmc(simulate: Simulate, distance: Callable[[np.ndarray], float], n_dim: int,
            n_particles: int, generations: int, seed: int, quantile: float = 0.5,
            min_acceptance: float = 0.01, progress: bool = True) -> list[Population]:
    """Run ABC-PMC; returns every generation (the last is the posterior sample).

    ``simulate`` maps (unit point, simulation index) pairs to simulated statistics, in
    order; ``distance`` turns those into the distance to the observations.
    """
    rng = Streams(seed, 0).get("calibration/abc")
    next_index = 0

    def evaluate(points: np.ndarray) -> np.ndarray:
        nonlocal next_index
        tasks = [(p, next_index + i) for i, p in enumerate(points)]
        next_index += len(points)
        return np.array([distance(row) for row in simulate(tasks)])

    bar = tqdm(total=generations, desc="ABC-PMC generations", unit="gen", disable=not progress)
    started = time.perf_counter()
    points = rng.random((n_particles, n_dim))
    distances = evaluate(points)
    ok = np.isfinite(distances)
    history = [Population(points[ok], _normalise(np.ones(ok.sum())), distances[ok], np.inf,
                          n_particles, time.perf_counter() - started)]
    bar.update(1)
    for _ in range(1, generations):
        previous = history[-1]
        if len(previous.particles) < min_particles(n_dim):
            break  # too few for a proposal kernel (a fit asks for at least this many)
        tolerance = weighted_quantile(previous.distances, previous.weights, quantile)
        sigma = np.sqrt(2.0 * _weighted_variance(previous.particles, previous.weights) + 1e-12)
        started = time.perf_counter()
        kept: list[np.ndarray] = []
        kept_d: list[float] = []
        simulations = 0
        while len(kept) < n_particles:
            batch = _batch_size(n_particles - len(kept), len(kept), simulations, n_particles)
            proposals = _propose(rng, previous.particles, previous.weights, sigma, batch)
            distances = evaluate(proposals)
            simulations += len(proposals)
            for point, d in zip(proposals, distances, strict=True):
                if d <= tolerance and len(kept) < n_particles:
                    kept.append(point)
                    kept_d.append(float(d))
            if simulations > n_particles / min_acceptance:
                break
        if len(kept) < min_particles(n_dim):
            break  # acceptance collapsed: keep the previous generation as the posterior
        particles = np.array(kept)
        log_weight = -_log_kernel_mixture(particles, previous.particles, previous.weights, sigma)
        weights = _normalise(np.exp(log_weight - log_weight.max()))  # the prior is uniform
        history.append(Population(particles, weights, np.array(kept_d), tolerance, simulations,
                                  time.perf_counter() - started))
        bar.update(1)
        bar.set_postfix(tolerance=f"{tolerance:.3g}",
                        acceptance=f"{len(kept) / simulations:.2f}")
    bar.close()
    return history


def min_particles(n_dim: int) -> int:
    """The smallest population that gives a proposal kernel (a covariance of full rank)."""
    return max(10, n_dim + 2)


def _batch_size(needed: int, kept: int, simulations: int, n_particles: int) -> int:
    """How many proposals to simulate next: enough for the particles still needed at the
    acceptance so far (with a margin), at most a population's worth."""
    acceptance = max(kept, 1) / simulations if simulations else 1.0
    return int(min(n_particles, max(needed, np.ceil(1.2 * needed / acceptance))))


def _weighted_variance(points: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The weighted variance of each column."""
    mean = weights @ points
    return weights @ (points - mean) ** 2


def _propose(rng: np.random.Generator, previous: np.ndarray, weights: np.ndarray,
             sigma: np.ndarray, n: int) -> np.ndarray:
    """n proposals on the unit cube: resample by weight, move each parameter by its kernel,
    reflect back at the faces."""
    idx = rng.choice(len(previous), size=n, p=weights)
    moved = previous[idx] + rng.standard_normal((n, len(sigma))) * sigma
    folded = np.abs(moved) % 2.0
    return np.where(folded > 1.0, 2.0 - folded, folded)


IMAGES = (0.0, 2.0, -2.0)  # shifts of a point and of its mirror image that a kernel reaches


def _log_kernel_mixture(points: np.ndarray, previous: np.ndarray, weights: np.ndarray,
                        sigma: np.ndarray) -> np.ndarray:
    """Log density (up to a constant) of the proposal mixture at each point: per parameter a
    normal reflected at 0 and 1 (the sum over its images), the parameters independent."""
    x = points[:, None, :]
    density = np.zeros((len(points), len(previous), len(sigma)))
    for shift in IMAGES:
        for image in (previous + shift, -previous + shift):
            density += np.exp(-0.5 * ((x - image[None, :, :]) / sigma) ** 2)
    log_k = np.log(density).sum(axis=2) + np.log(np.maximum(weights, 1e-300))
    shift_max = log_k.max(axis=1, keepdims=True)
    return (shift_max + np.log(np.exp(log_k - shift_max).sum(axis=1, keepdims=True)))[:, 0]


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The q-quantile of weighted values (the smallest value whose weight share reaches q)."""
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    index = min(int(np.searchsorted(cumulative, q * cumulative[-1])), len(values) - 1)
    return float(values[order][index])


def _normalise(w: np.ndarray) -> np.ndarray:
    return w / w.sum()
