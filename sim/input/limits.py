"""Sane ranges of the numbers a user gives, shared by the command line and the input files.

A value outside its range is refused before anything runs (exit code 2, one line naming the
file or option and the key), instead of crashing or exhausting the machine later.
"""

from __future__ import annotations

SEED_MAX = 2**63 - 1  # seeds are stored in int64 columns; numpy takes any integer >= 0
YEAR_MIN = 1900  # first year of any date or year in a model (the start date's earliest)
YEAR_MAX = 2200  # last simulated year; a replication grows with every simulated year
WARMUP_YEARS_MAX = 50
REPLICATIONS_MAX = 100_000
WORKERS_MAX = 256
PARTICLES_MAX = 100_000
GENERATIONS_MAX = 100
CHECK_DRAWS_MAX = 100_000
COUNT_MAX = 10_000  # places, homes, initial stocks in a model file: the region has a few thousand
RATE_MAX = 10_000.0  # arrivals and releases a year in a model file: the BCT sees several hundred


def out_of_range(value: object, low: int, high: int) -> str | None:
    """Why ``value`` is not an integer in [low, high], in words; None when it is."""
    if isinstance(value, bool) or not isinstance(value, int):
        return f"expected an integer from {low} to {high}, got {value!r}"
    if not low <= value <= high:
        return f"expected an integer from {low} to {high}, got {_shown(value)}"
    return None


def _shown(value: int) -> str:
    """An integer as text, or its size when it is too long to print (or to convert at all)."""
    if value.bit_length() <= 128:
        return str(value)
    digits = int(value.bit_length() * 0.30103) + 1
    return f"{'-' if value < 0 else ''}a number of about {digits} digits"
