"""Checks of model values shared by the components' schemas; each raises an InputError.

Besides their sign, counts and rates have an upper bound: a value past it is surely a
mistake (a place count of 1e12 would exhaust memory long before it gave a result), and it is
refused before anything runs.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping

from sim.input.errors import InputError, did_you_mean
from sim.input.limits import COUNT_MAX as MAX_COUNT
from sim.input.limits import RATE_MAX as MAX_RATE
from sim.input.limits import YEAR_MAX, YEAR_MIN

ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_date(text: str, file: str, key: str) -> dt.date:
    """Parse a ``YYYY-MM-DD`` key (only that form: ``20250101`` would be a second key for
    the same day) of a year from :data:`YEAR_MIN` to :data:`YEAR_MAX`."""
    try:
        date = dt.date.fromisoformat(text) if ISO_DATE.fullmatch(text) else None
    except ValueError:
        date = None
    if date is None:
        digits = re.fullmatch(r"([0-9]{4})([0-9]{2})([0-9]{2})", text)
        near = did_you_mean(text, ["-".join(digits.groups())]) if digits else ""
        raise InputError(file, key, f"expected a date YYYY-MM-DD, got {text!r}{near}")
    date_in_range(date, file, key)
    return date


def date_in_range(date: dt.date, file: str, key: str) -> None:
    """A date of a year from :data:`YEAR_MIN` to :data:`YEAR_MAX`."""
    if not YEAR_MIN <= date.year <= YEAR_MAX:
        raise InputError(file, key, f"expected a date from {YEAR_MIN}-01-01 to {YEAR_MAX}-12-31, "
                         f"got {date.isoformat()}")


def year(value: str | int, file: str, key: str) -> int:
    """A year (a key such as ``2019``, or a number) from :data:`YEAR_MIN` to :data:`YEAR_MAX`."""
    text = str(value)
    if not (text.isascii() and text.isdigit()) or not YEAR_MIN <= int(text) <= YEAR_MAX:
        raise InputError(file, key, f"expected a year from {YEAR_MIN} to {YEAR_MAX}, got {text}")
    return int(text)


def distribution(probs: Mapping[str, float], file: str, key: str,
                 allowed: tuple[str, ...] | None = None) -> None:
    """Probabilities (of the allowed names, when given) that sum to one."""
    for name, p in probs.items():
        if allowed is not None and name not in allowed:
            raise InputError(file, f"{key}.{name}", f"unknown key; expected one of "
                             f"{', '.join(allowed)}{did_you_mean(name, allowed)}")
        probability(p, file, f"{key}.{name}")
    total = sum(probs.values())
    if not math.isclose(total, 1.0, abs_tol=1e-6):
        raise InputError(file, key, f"probabilities must sum to 1, got {total:.6g}")


def probability(p: float, file: str, key: str) -> None:
    """A number in [0, 1]."""
    if not 0.0 <= p <= 1.0:
        raise InputError(file, key, f"expected a probability in [0, 1], got {p}")


def positive(x: float, file: str, key: str) -> None:
    """A number > 0."""
    if not x > 0:
        raise InputError(file, key, f"expected a number > 0, got {x}")


def non_negative(x: float, file: str, key: str) -> None:
    """A number >= 0."""
    if not x >= 0:
        raise InputError(file, key, f"expected a number >= 0, got {x}")


def count(x: float, file: str, key: str) -> None:
    """A number of people, places or homes: 0 to :data:`MAX_COUNT`."""
    if not 0 <= x <= MAX_COUNT:
        raise InputError(file, key, f"expected a number from 0 to {MAX_COUNT:,}, got {x}")


def rate(x: float, file: str, key: str) -> None:
    """Events a year: 0 to :data:`MAX_RATE`."""
    if not 0 <= x <= MAX_RATE:
        raise InputError(file, key, f"expected a number a year from 0 to {MAX_RATE:,.0f}, got {x}")
