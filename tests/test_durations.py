"""Stay distributions chosen per stay (sim/components/durations.py): the draws follow the
distribution named, the default gamma keeps the model's draws, bad parameters are refused."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pytest
from scipy import stats

from sim.components.durations import Duration, gamma
from sim.engine.streams import Streams, gamma_rows
from sim.input.errors import InputError
from sim.model.files import from_mapping, load
from sim.replication.replicate import run_replication
from sim.replication.variates import GroupDraws

SIGMA2 = math.log1p((20.0 / 30.0) ** 2)
CASES: dict[str, tuple[Duration, Any]] = {
    "gamma": (Duration("gamma", mean=30.0, shape=3.0), stats.gamma(3.0, scale=10.0)),
    "exponential": (Duration("exponential", mean=30.0), stats.expon(scale=30.0)),
    "lognormal": (Duration("lognormal", mean=30.0, sd=20.0),
                  stats.lognorm(math.sqrt(SIGMA2), scale=30.0 * math.exp(-SIGMA2 / 2))),
    "triangular": (Duration("triangular", low=5.0, mode=20.0, high=60.0),
                   stats.triang(15 / 55, loc=5.0, scale=55.0)),
    "empirical": (Duration("empirical", p=(0.0, 0.5, 0.9, 1.0), days=(2.0, 20.0, 50.0, 90.0)),
                  None),
}


def empirical_cdf(x: np.ndarray) -> np.ndarray:
    return np.interp(x, [2.0, 20.0, 50.0, 90.0], [0.0, 0.5, 0.9, 1.0])


@pytest.mark.parametrize("family", list(CASES))
def test_whole_stays_follow_the_distribution(family: str) -> None:
    duration, dist = CASES[family]
    x = duration.sample(np.random.default_rng(1), (4000,))
    cdf = dist.cdf if dist is not None else empirical_cdf
    assert stats.kstest(x, cdf).pvalue > 0.01
    mean, half = x.mean(), 3.3 * x.std(ddof=1) / math.sqrt(len(x))  # 99.9 %
    assert abs(mean - duration.expected()) < half
    u = np.random.default_rng(2).random(4000)  # the quantiles (a capacity channel's homes)
    assert stats.kstest(duration.ppf(u), cdf).pvalue > 0.01


def test_the_default_gamma_keeps_the_models_draws() -> None:
    """The gamma of recovery_days/recovery_shape draws what the model drew before stays
    could be chosen: standard gamma variates in rows, scaled by mean / shape."""
    model = load("models/haarlem.toml")
    group = model.groups["wmo"]
    assert group.work() == gamma(group.recovery_days or 0.0, group.recovery_shape or 0.0)
    draws = GroupDraws(model, Streams(5, 1), "wmo", 50, group)
    rng = Streams(5, 1).get("clients/wmo/work")
    shape = group.recovery_shape or 0.0
    np.testing.assert_array_equal(draws.rows[:, :, 5],  # WORK
                                  gamma_rows(rng, 50, (4,), shape) * ((group.recovery_days or 0) / shape))


def minimal(**group: Any) -> dict[str, Any]:
    return {
        "simulation": {"start": dt.date(2025, 1, 1), "end_year": 2025, "warmup_years": 0},
        "facilities": {"f": {"schedule": {"2025-01-01": {"places": 10}}}},
        "routes": {"shelter": {"single_adult": ["f"]}},
        "groups": {"g": {"arrivals": {"2025": 10.0}, "patience_days": 10.0, **group}},
    }


BAD: list[tuple[dict[str, Any], str, str]] = [
    ({"recovery": {"distribution": "gamma", "mean": 30.0}}, "groups.g.recovery.shape", "missing"),
    ({"recovery": {"distribution": "exponential", "mean": 30.0, "sd": 2.0}},
     "groups.g.recovery.sd", "not a parameter"),
    ({"recovery": {"distribution": "lognormal", "mean": -1.0, "sd": 2.0}},
     "groups.g.recovery.mean", "> 0"),
    ({"recovery": {"distribution": "triangular", "low": 5.0, "mode": 50.0, "high": 20.0}},
     "groups.g.recovery.mode", "low <= mode <= high"),
    ({"recovery": {"distribution": "triangular", "low": -5.0, "mode": 5.0, "high": 20.0}},
     "groups.g.recovery.low", ">= 0"),
    ({"recovery": {"distribution": "empirical", "p": [0.0, 0.5, 0.4, 1.0], "days": [1, 2, 3, 4]}},
     "groups.g.recovery.p", "rising from 0 to 1"),
    ({"recovery": {"distribution": "empirical", "p": [0.0, 1.0], "days": [1.0, 2.0, 3.0]}},
     "groups.g.recovery.days", "as many days"),
    ({"recovery": {"distribution": "empirical", "p": [0.0, 0.5, 1.0], "days": [5.0, 2.0, 9.0]}},
     "groups.g.recovery.days", "do not fall"),
    ({"recovery": {"distribution": "weibull", "mean": 3.0}}, "groups.g.recovery.distribution",
     "one of"),
    ({"recovery": {"distribution": "exponential", "mean": 30.0}, "recovery_days": 30.0},
     "groups.g.recovery_days", "not with recovery"),
    ({}, "groups.g.recovery_days", "missing"),
]


@pytest.mark.parametrize(("group", "key", "fragment"), BAD, ids=[b[1] + ":" + b[2] for b in BAD])
def test_bad_parameters_are_refused_naming_the_key(group: dict[str, Any], key: str,
                                                   fragment: str) -> None:
    with pytest.raises(InputError) as err:
        from_mapping(minimal(**group), "county.toml")
    assert err.value.file == "county.toml"
    assert err.value.key == key
    assert fragment in err.value.expected


def test_pool_and_channel_stays_are_checked_too() -> None:
    raw = minimal(recovery_days=10.0, channels=["homes"])
    raw["channels"] = {"homes": {"kind": "capacity", "tracks": ["shelter"], "homes": 5,
                                 "stay": {"distribution": "triangular", "low": 1.0, "mode": 0.5,
                                          "high": 9.0}}}
    with pytest.raises(InputError, match=r"channels\.homes\.stay\.mode"):
        from_mapping(raw, "m.toml")
    raw["channels"]["homes"] = {"kind": "hazard", "tracks": ["shelter"], "rate_per_year": 1.0,
                                "stay": {"distribution": "exponential", "mean": 9.0}}
    with pytest.raises(InputError, match=r"channels\.homes\.stay: only a capacity channel"):
        from_mapping(raw, "m.toml")
    raw = minimal(recovery_days=10.0)
    raw["places"] = {"p": {"label": "p", "schedule": {"2025-01-01": 5}, "exit": {"wlz": 1.0},
                           "stay_days": 100.0, "stay": {"distribution": "exponential",
                                                        "mean": 9.0}}}
    with pytest.raises(InputError, match=r"places\.p\.stay_days: not with stay"):
        from_mapping(raw, "m.toml")


def test_every_family_runs_in_a_model() -> None:
    """Recovery, pool stays and a capacity channel's stays of each family in one run."""
    for family, (duration, _) in CASES.items():
        table = {k: list(v) if isinstance(v, tuple) else v for k, v in vars(duration).items()
                 if v not in (None, ())}
        raw = minimal(recovery=table, channels=["homes"], bw_indication_share=0.5)
        raw["channels"] = {"homes": {"kind": "capacity", "tracks": ["shelter", "place"],
                                     "homes": 5, "stay": table}}
        raw["places"] = {"p": {"label": "p", "schedule": {"2025-01-01": 3}, "stay": table,
                               "exit": {"ambulant": 1.0}, "indication_days": 10.0}}
        rep = run_replication(from_mapping(raw, f"{family}.toml"), 1, 0)
        placed = rep.annual[rep.annual["metric"] == "homes_placements"]["value"].sum()
        assert placed > 0, family
