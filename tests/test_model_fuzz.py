"""Generated model files, as a careless edit makes them: ``opvang check`` and ``opvang run``
answer 0 or 2 (a clean message naming the file), never a traceback, never a hang.

Each example changes one line of the baseline model file: a value replaced by an odd literal
(zero, negative, huge, tiny, infinite, not a number, text, a table, a deep array, a
five-thousand-digit integer, dates of the wrong form or beyond the documented years, a time, a
value of the wrong kind), its key replaced by an odd one (a date of another form or out of
range, a year out of range, a misspelt or foreign field), or the line deleted; or it adds a
line with an odd key and value under a table (a field where it does not act).
"""

from __future__ import annotations

import re
import tempfile
import time
from pathlib import Path

import pytest
from cli_runner import cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.slow  # runs every mutated model file it can

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "haarlem.toml"
LINES = MODEL.read_text(encoding="utf-8").splitlines()
ASSIGNMENTS = [i for i, line in enumerate(LINES) if re.match(r"^[\w\"\-.]+ = ", line)]
ODD = ["0", "-1", "-0.5", "1e12", "1e-300", "1e308", "inf", "-inf", "nan", '"text"', "true",
       "[]", "{}", "[[1, 2]]", "{ x = 1 }", "2019-13-01", "9" * 5000, "[" * 3000 + "]" * 3000,
       "0.9999999", "100000", "2200", "1900-01-01",
       # issue 20: dates and years beyond the documented range or of another form, huge
       # counts and rates, values of the wrong kind
       "2525-01-01", "9999-12-31", "1899-12-31", "2019-01-01T00:00:00", "12:00:00", '"2019-01-01"',
       '"20250101"', "1e9", "-1e9", "10001", "{ places = 1e9 }", "{ rate_per_year = 1e9 }",
       "[2019-01-01]", '{ "20250101" = 5 }', '{ "2525-01-01" = { places = 3 } }']
ODD_KEYS = ["20190101", "2525-01-01", "9999-12-31", "1899-12-31", "2019-1-1", "2019-02-30", "99999",
            "0", "-1", '"a.b"', "x", "places", "plces", "dated", "homes", "rate_per_year", "start"]
TABLES = [i for i, line in enumerate(LINES) if line.startswith("[")]


def mutate(index: int, odd: str | None, key: str | None = None) -> str:
    """The model file with line ``index`` deleted (``odd`` and ``key`` None), or its value
    replaced by ``odd``, or its key by ``key``."""
    lines = list(LINES)
    if odd is None and key is None:
        del lines[index]
    else:
        old_key, value = lines[index].split(" = ", 1)
        lines[index] = f"{key or old_key} = {odd or value}"
    return "\n".join(lines) + "\n"


def added(table: int, key: str, value: str) -> str:
    """The model file with ``key = value`` added as the first line under the table header
    at line ``table``."""
    lines = list(LINES)
    lines.insert(table + 1, f"{key} = {value}")
    return "\n".join(lines) + "\n"


DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
BAD_DATES = {"20190101", "2525-01-01", "9999-12-31", "1899-12-31", "2019-1-1", "2019-02-30",
             "2019-01-01T00:00:00", "12:00:00", "[2019-01-01]"}


def must_be_refused(line: str, odd: str | None) -> bool:
    """Whether an edit of ``line`` (its key or value replaced by ``odd``) gives a date of
    another form or out of range where a date is: a dated entry's key, or a date value."""
    key, value = line.split(" = ", 1)
    is_date = DATE.fullmatch(key) or DATE.fullmatch(value.split("#")[0].strip())
    return bool(is_date) and odd in BAD_DATES


EDITS = st.one_of(
    st.tuples(st.just("value"), st.sampled_from(ASSIGNMENTS), st.one_of(st.none(), st.sampled_from(ODD))),
    st.tuples(st.just("key"), st.sampled_from(ASSIGNMENTS), st.sampled_from(ODD_KEYS)),
    st.tuples(st.just("add"), st.sampled_from(TABLES), st.sampled_from(ODD_KEYS)),
)


@settings(max_examples=120, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(edit=EDITS, value=st.sampled_from(["1", "1e9", "2525-01-01", '"x"', "{ a = 1 }"]))
def test_a_mutated_model_file_is_run_or_refused_cleanly(tmp_path: Path, edit: tuple[str, int, str | None],
                                                        value: str) -> None:
    kind, index, odd = edit
    folder = Path(tempfile.mkdtemp(prefix=f"case-{kind}-{index}-", dir=tmp_path))  # a replay: a new one
    path = folder / "haarlem.toml"
    text = (mutate(index, odd) if kind == "value" else mutate(index, None, odd) if kind == "key"
            else added(index, str(odd), value))
    path.write_text(text, encoding="utf-8")
    checked = cli(["check", str(path)])
    assert checked.code in (0, 2), checked.err
    assert "Traceback" not in checked.err
    if kind != "add" and must_be_refused(LINES[index], odd):
        assert checked.code == 2, f"accepted: {LINES[index]!r} with {odd!r}"
    if checked.code == 2:
        assert checked.err.startswith(f"error: {path}") and checked.err.count("\n") == 1
        return
    started = time.monotonic()
    ran = cli(["run", str(path), "--replications", "1", "--until", "2019", "--out",
               str(folder / "out"), "--quiet", "--targets", str(ROOT / "calibration" / "targets.csv")])
    assert ran.code in (0, 2), ran.err
    assert "Traceback" not in ran.err
    assert time.monotonic() - started < 120, "a run of one year took more than two minutes"


@pytest.mark.parametrize("odd", ["[" * 3000 + "]" * 3000, "9" * 5000])
def test_deep_arrays_and_huge_integers_are_bad_input(tmp_path: Path, odd: str) -> None:
    path = tmp_path / "odd.toml"
    path.write_text(mutate(ASSIGNMENTS[0], odd), encoding="utf-8")
    result = cli(["check", str(path)])
    assert result.code == 2 and result.err.startswith(f"error: {path}: not a model file")
