"""Randomness: same seed same answer; common random numbers across capacity variants."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.engine.log import Recorder
from sim.engine.streams import Streams, gamma_rows, stream_key, uniform_rows
from sim.model.files import from_mapping, read_toml, with_overrides
from sim.replication.journey import Region
from sim.replication.replicate import run_replication

MODEL = "models/haarlem.toml"


@pytest.fixture(scope="module")
def raw() -> dict:
    return read_toml(Path(MODEL))


def short(raw: dict, **overrides: object) -> dict:
    changes = {"simulation.end_year": 2020, "simulation.warmup_years": 1, **overrides}
    return with_overrides(raw, changes, MODEL)


def arrivals(events: pd.DataFrame) -> pd.DataFrame:
    """First reports at the BCT: who arrived when (returns excluded)."""
    first = events[(events["to"] == "bct") & (events["reason"] == "arrival")]
    return first[["client", "time"]].reset_index(drop=True)


def test_stream_keys_are_stable_across_processes() -> None:
    # blake2b, not Python's salted hash(): a fixed value, the same in every interpreter
    assert stream_key("arrivals/wmo") == 17161123023640965653
    assert stream_key("arrivals/wmo") != stream_key("arrivals/economic")


def test_uniform_rows_do_not_depend_on_how_many_are_drawn() -> None:
    small = uniform_rows(Streams(1, 0).get("x"), 10, (3,))
    large = uniform_rows(Streams(1, 0).get("x"), 2000, (3,))
    np.testing.assert_array_equal(small, large[:10])


@pytest.mark.parametrize("shape", [0.5, 1.0, 1.5, 3.0])
def test_gamma_rows_do_not_depend_on_how_many_are_drawn(shape: float) -> None:
    # rejection sampling takes a varying number of draws per variate, but in order
    small = gamma_rows(Streams(1, 0).get("x"), 7, (4,), shape)
    large = gamma_rows(Streams(1, 0).get("x"), 3000, (4,), shape)
    np.testing.assert_array_equal(small, large[:7])


def test_same_seed_gives_identical_tables(raw: dict) -> None:
    model = from_mapping(short(raw), MODEL)
    a = run_replication(model, seed=7, replication=3, events=True)
    b = run_replication(model, seed=7, replication=3, events=True)
    pd.testing.assert_frame_equal(a.annual, b.annual)
    pd.testing.assert_frame_equal(a.daily, b.daily)
    assert a.events is not None and b.events is not None
    pd.testing.assert_frame_equal(a.events, b.events)


def test_other_seed_or_replication_gives_other_tables(raw: dict) -> None:
    model = from_mapping(short(raw), MODEL)
    base = run_replication(model, seed=7, replication=0).annual["value"]
    other_rep = run_replication(model, seed=7, replication=1).annual["value"]
    other_seed = run_replication(model, seed=8, replication=0).annual["value"]
    assert not np.allclose(base, other_rep, equal_nan=True)
    assert not np.allclose(base, other_seed, equal_nan=True)


def test_capacity_variant_has_identical_arrivals_and_personal_draws(raw: dict) -> None:
    """Common random numbers: a scenario with other capacities sees the same clients."""
    base = from_mapping(short(raw), MODEL)
    fewer = from_mapping(short(raw, **{
        "facilities.velserpoort.schedule.2019-01-01.places": 20,
        "facilities.wilhelminastraat.winter_places": 0,
        "places.bw.schedule.2019-01-01": 300,
        "channels.pact.homes_per_year.haarlem": 10,
    }), MODEL)
    a = run_replication(base, seed=11, replication=2, events=True)
    b = run_replication(fewer, seed=11, replication=2, events=True)
    assert a.events is not None and b.events is not None
    pd.testing.assert_frame_equal(arrivals(a.events), arrivals(b.events))
    # the capacities did change what happened to them
    assert not a.annual["value"].equals(b.annual["value"])

    regions = []
    for model in (base, fewer):
        region = Region(model, Streams(11, 2), Recorder())
        region.start()
        regions.append(region)
    assert regions[0].draws.keys() == regions[1].draws.keys()
    for name, draws in regions[0].draws.items():
        np.testing.assert_array_equal(draws.rows, regions[1].draws[name].rows)


def test_arrival_rate_change_keeps_draws_of_the_first_clients(raw: dict) -> None:
    """More arrivals of one group append clients; the k-th client's variates stay the same."""
    base = from_mapping(short(raw), MODEL)
    busier = from_mapping(short(raw, **{"groups.wmo.arrivals": {"2019": 500, "2020": 500}}), MODEL)
    regions = []
    for model in (base, busier):
        region = Region(model, Streams(3, 0), Recorder())
        region.start()
        regions.append(region)
    small, large = regions[0].draws["wmo"].rows, regions[1].draws["wmo"].rows
    assert len(large) > len(small)
    np.testing.assert_array_equal(small, large[: len(small)])
    for name in ("economic", "eu"):
        np.testing.assert_array_equal(regions[0].draws[name].rows, regions[1].draws[name].rows)
