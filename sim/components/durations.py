"""Durations: the distribution of a stay, chosen per stay in the model file.

A stay is recovery work in shelter (``groups.<g>.recovery``), a stay in a place of a pool
(``places.<p>.stay``) or in a home of a capacity channel (``channels.<c>.stay``). Its table
names the distribution and its parameters, in days::

    { distribution = "gamma", mean = 90.0, shape = 1.5 }
    { distribution = "exponential", mean = 90.0 }
    { distribution = "lognormal", mean = 90.0, sd = 120.0 }
    { distribution = "triangular", low = 7.0, mode = 30.0, high = 365.0 }
    { distribution = "empirical", p = [0.0, 0.5, 0.9, 1.0], days = [7.0, 60.0, 200.0, 500.0] }

``empirical`` is a table of quantiles: ``days[i]`` is the ``p[i]`` quantile, linear in
between (``p`` from 0 to 1). A lognormal is given by its mean and standard deviation.

Someone already part-way through a stay at the start of a run (an initial occupant) has the
rest of it drawn from the *equilibrium residual* (forward recurrence) of the distribution, the
remaining time of a stay seen at a random moment: density ``(1 - F(x)) / mean``
(:meth:`Duration.residual`).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import special

from sim.input.errors import InputError

Family = Literal["gamma", "exponential", "lognormal", "triangular", "empirical"]
PARAMETERS: dict[str, tuple[str, ...]] = {
    "gamma": ("mean", "shape"),
    "exponential": ("mean",),
    "lognormal": ("mean", "sd"),
    "triangular": ("low", "mode", "high"),
    "empirical": ("p", "days"),
}
GRID = 4096  # points of the numerical residual of the triangular and empirical families


@dataclass(frozen=True)
class Duration:
    """A distribution of days (see the module's docstring for the TOML form)."""

    distribution: Family
    mean: float | None = None
    shape: float | None = None
    sd: float | None = None
    low: float | None = None
    mode: float | None = None
    high: float | None = None
    p: tuple[float, ...] = ()
    days: tuple[float, ...] = ()

    def expected(self) -> float:
        """The mean number of days."""
        if self.distribution == "triangular":
            return (self._low + self._mode + self._high) / 3.0
        if self.distribution == "empirical":
            p, days = np.array(self.p), np.array(self.days)
            return float(np.sum(np.diff(p) * (days[1:] + days[:-1]) / 2.0))
        assert self.mean is not None
        return self.mean

    def sample(self, rng: np.random.Generator, size: tuple[int, ...]) -> np.ndarray:
        """Whole stays from ``rng`` (row ``k`` of ``size`` never depends on how many rows).

        A gamma takes ``rng.standard_gamma`` draws (the model's draws since its first version);
        the others transform uniforms (:meth:`ppf`)."""
        if self.distribution == "gamma":
            shape, mean = self._shape, self._mean
            return rng.standard_gamma(shape, size) * (mean / shape)
        return self.ppf(rng.random(size))

    def sample_one(self, rng: np.random.Generator) -> float:
        """One whole stay from ``rng`` (the same draws as :meth:`sample` of one)."""
        if self.distribution == "gamma":
            shape, mean = self._shape, self._mean
            return float(rng.standard_gamma(shape) * (mean / shape))
        return float(self.ppf(np.array(rng.random())))

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """The quantiles of uniforms ``u`` (the inverse of the distribution function)."""
        u = np.asarray(u, dtype=float)
        family = self.distribution
        if family == "exponential":
            return -self._mean * np.log1p(-u)
        if family == "gamma":
            return special.gammaincinv(self._shape, u) * (self._mean / self._shape)
        if family == "lognormal":
            mu, sigma = self._lognormal()
            return np.exp(mu + sigma * special.ndtri(u))
        if family == "triangular":
            a, c, b = self._low, self._mode, self._high
            left = (c - a) / (b - a)
            return np.where(u < left, a + np.sqrt(u * (b - a) * (c - a)),
                            b - np.sqrt((1.0 - u) * (b - a) * (b - c)))
        return np.interp(u, self.p, self.days)

    def residual(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` remaining stays of people part-way through one at a random moment.

        The residual is ``U * X'`` with ``U`` uniform and ``X'`` the length-biased stay: an
        exponential is memoryless (its residual is itself), a gamma's ``X'`` is a gamma of
        shape + 1, a lognormal's a lognormal with ``mu + sigma^2``. The triangular and empirical
        residuals invert ``F_e(x) = (1/mean) * integral_0^x (1 - F)`` numerically."""
        family = self.distribution
        if family == "exponential":
            return self.ppf(rng.random(n))
        if family == "gamma":
            u = rng.random(n)
            return u * rng.standard_gamma(self._shape + 1.0, n) * (self._mean / self._shape)
        if family == "lognormal":
            mu, sigma = self._lognormal()
            u = rng.random(n)
            return u * np.exp(mu + sigma**2 + sigma * rng.standard_normal(n))
        x, cumulative = self._equilibrium_grid()
        return np.interp(rng.random(n) * cumulative[-1], cumulative, x)

    def _equilibrium_grid(self) -> tuple[np.ndarray, np.ndarray]:
        """Points ``x`` (the knots of the distribution among them) and the integral of
        ``1 - F`` from 0 to each (exact for the empirical family: ``1 - F`` is linear between
        its knots)."""
        top = self._high if self.distribution == "triangular" else self.days[-1]
        knots = [self._low, self._mode] if self.distribution == "triangular" else list(self.days)
        x = np.unique(np.concatenate([np.linspace(0.0, top, GRID), knots]))
        survival = 1.0 - self.cdf(x)
        steps = np.diff(x) * (survival[1:] + survival[:-1]) / 2.0
        return x, np.concatenate([[0.0], np.cumsum(steps)])

    def cdf(self, x: np.ndarray) -> np.ndarray:
        """The distribution function of the triangular and empirical families."""
        if self.distribution == "triangular":
            a, c, b = self._low, self._mode, self._high
            rising = np.where(x <= a, 0.0, (x - a) ** 2 / ((b - a) * max(c - a, 1e-300)))
            falling = np.where(x >= b, 1.0, 1.0 - (b - x) ** 2 / ((b - a) * max(b - c, 1e-300)))
            return np.where(x <= c, np.minimum(rising, 1.0), falling)
        days, p = np.array(self.days), np.array(self.p)
        keep = np.r_[np.diff(days) > 0, True]  # a jump (equal days) keeps its top probability
        return np.interp(x, days[keep], p[keep], left=0.0, right=1.0)

    def _lognormal(self) -> tuple[float, float]:
        """(mu, sigma) of the normal whose exponential has this mean and sd."""
        sigma2 = math.log1p((self._sd / self._mean) ** 2)
        return math.log(self._mean) - sigma2 / 2.0, math.sqrt(sigma2)

    @property
    def _mean(self) -> float:
        assert self.mean is not None
        return self.mean

    @property
    def _shape(self) -> float:
        assert self.shape is not None
        return self.shape

    @property
    def _sd(self) -> float:
        assert self.sd is not None
        return self.sd

    @property
    def _low(self) -> float:
        assert self.low is not None
        return self.low

    @property
    def _mode(self) -> float:
        assert self.mode is not None
        return self.mode

    @property
    def _high(self) -> float:
        assert self.high is not None
        return self.high


def gamma(mean: float, shape: float) -> Duration:
    """A gamma distribution of days (the model's stays given by ``*_days`` and ``*_shape``)."""
    return Duration("gamma", mean=mean, shape=shape)


def validate_duration(d: Duration, file: str, key: str) -> None:
    """The parameters of the family given, the others absent, and their values sound."""
    wanted = PARAMETERS[d.distribution]
    for name in ("mean", "shape", "sd", "low", "mode", "high", "p", "days"):
        given = getattr(d, name) not in (None, ())
        if given and name not in wanted:
            raise InputError(file, f"{key}.{name}", f"not a parameter of a {d.distribution} "
                             f"distribution; expected {', '.join(wanted)}")
        if not given and name in wanted:
            raise InputError(file, f"{key}.{name}", f"missing; a {d.distribution} distribution "
                             f"needs {', '.join(wanted)}")
    for name in ("mean", "shape", "sd"):
        value = getattr(d, name)
        if value is not None and not value > 0:
            raise InputError(file, f"{key}.{name}", f"expected a number > 0, got {value}")
    if d.distribution == "triangular":
        _validate_triangular(d, file, key)
    elif d.distribution == "empirical":
        _validate_empirical(d, file, key)


def _validate_triangular(d: Duration, file: str, key: str) -> None:
    low, mode, high = d.low, d.mode, d.high
    assert low is not None and mode is not None and high is not None
    if low < 0:
        raise InputError(file, f"{key}.low", f"expected a number of days >= 0, got {low}")
    if not low <= mode <= high:
        raise InputError(file, f"{key}.mode", f"expected low <= mode <= high, got {low}, {mode}, {high}")
    if not high > low:
        raise InputError(file, f"{key}.high", f"expected a number above low ({low}), got {high}")


def _validate_empirical(d: Duration, file: str, key: str) -> None:
    p, days = d.p, d.days
    if len(p) != len(days):
        raise InputError(file, f"{key}.days", f"expected as many days as probabilities ({len(p)}), "
                         f"got {len(days)}")
    if len(p) < 2 or p[0] != 0.0 or p[-1] != 1.0 or any(b <= a for a, b in itertools.pairwise(p)):
        raise InputError(file, f"{key}.p", f"expected probabilities rising from 0 to 1, got {list(p)}")
    if days[0] < 0 or any(b < a for a, b in itertools.pairwise(days)) or not days[-1] > 0:
        raise InputError(file, f"{key}.days", f"expected days >= 0 that do not fall, the last > 0, "
                         f"got {list(days)}")
