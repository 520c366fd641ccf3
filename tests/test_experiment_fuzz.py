"""Generated experiment files, as a careless edit makes them: ``opvang check`` answers 0 or 2
(one clean line naming the file), never a traceback; an accepted file sweeps and summarises.

Each example changes one line of a small experiment (named scenarios, a grid, or a sample):
a value replaced by an odd literal (a number out of range, a date of another form or beyond
the documented years, a value of the wrong kind), its key replaced by an odd one (a misspelt
field, an override key with an odd date, a year out of range, a field where it does not
act), the line deleted, or a line with an odd key and value added under a table.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

import pytest
from cli_runner import cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.slow  # sweeps every mutated experiment file it can

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "haarlem.toml"
W = "facilities.wilhelminastraat.schedule"
NAMED = f"""model = {json.dumps(str(MODEL))}
replications = 1
seed = 3
tables = ["annual"]
baseline = "base"
[horizon]
end_year = 2019
warmup_years = 0
[scenarios.base]
[scenarios.more]
"{W}.2019-01-01.places" = 40
"channels.regular.dated.2019-06-01.rate_per_year" = 0.7
[grids.g]
"groups.wmo.patience_days" = [10.0, 20.0]
label = "g-{{patience_days}}"
""".splitlines()
SAMPLED = f"""model = {json.dumps(str(MODEL))}
replications = 1
seed = 4
[horizon]
end_year = 2019
warmup_years = 0
[sample]
method = "morris"
n = 2
seed = 5
[parameters."groups.wmo.patience_days"]
low = 7.0
high = 120.0
scale = "log"
[levers."{W}.2019-01-01.places"]
low = 20
high = 40
integer = true
""".splitlines()
FILES = {"named": NAMED, "sampled": SAMPLED}
ODD = ["0", "-1", "1e9", "-1e9", "1e308", "inf", "nan", '"text"', "true", "[]", "{}", "[[1, 2]]",
       "{ x = 1 }", "9" * 400, "2019-13-01", "2525-01-01", "9999-12-31", "1899-12-31", "20190101",
       "2019-01-01T00:00:00", "12:00:00", '"2019-01-01"', "100001", "2201", "2018", '["annual", "x"]',
       '"morris"', '"sobol"', "10001"]
ODD_KEYS = ["replication", "end_yaer", "seeds", "label", "labels.x", "name", "posterior",
            f'"{W}.20190101.places"', f'"{W}.2525-01-01.places"', f'"{W}.9999-12-31.places"',
            f'"{W}.2019-1-1.places"', f'"{W}.2019-01-01.place"', f'"{W}.2025-01-01.places"',
            '"groups.wmo.arrivals.99999"', '"channels.regular.rate_per_year"',
            '"channels.skaeve_huse.dated.2019-06-01.skaeve_huse"', '"channels.pact.homes"',
            '"places.bw.schedule.2525-01-01"', '"simulation.end_year"']
BAD_DATE = re.compile(r"\.(20190101|2525-01-01|9999-12-31|2019-1-1|2025-01-01)\.")  # cannot act
REFUSED = {'"groups.wmo.arrivals.99999"', '"channels.skaeve_huse.dated.2019-06-01.skaeve_huse"',
           '"channels.pact.homes"', '"places.bw.schedule.2525-01-01"'}  # out of range, or not acting


def edited(lines: list[str], kind: str, index: int, odd: str, value: str) -> str:
    """The file with line ``index``'s value or key replaced by ``odd``, deleted, or with
    ``odd = value`` added after it."""
    out = list(lines)
    if kind == "delete":
        del out[index]
    elif kind == "add":
        out.insert(index + 1, f"{odd} = {value}")
    elif " = " in out[index]:
        key, old = out[index].split(" = ", 1)
        out[index] = f"{key} = {odd}" if kind == "value" else f"{odd} = {old}"
    return "\n".join(out) + "\n"


@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(which=st.sampled_from(sorted(FILES)), kind=st.sampled_from(["value", "key", "delete", "add"]),
       where=st.integers(0, 100), odd=st.data(), value=st.sampled_from(["1", "1e9", '"x"', "2525-01-01"]))
def test_a_mutated_experiment_file_is_swept_or_refused_cleanly(
        tmp_path: Path, which: str, kind: str, where: int, odd: st.DataObject, value: str) -> None:
    lines = FILES[which]
    index = where % len(lines)
    choice = odd.draw(st.sampled_from(ODD_KEYS if kind in ("key", "add") else ODD))
    folder = Path(tempfile.mkdtemp(prefix=f"{which}-{kind}-{index}-", dir=tmp_path))
    path = folder / "exp.toml"
    path.write_text(edited(lines, kind, index, choice, value), encoding="utf-8")
    checked = cli(["check", str(path)], folder)
    assert checked.code in (0, 2), checked.err
    assert "Traceback" not in checked.err
    if checked.code == 2:
        assert checked.err.startswith(f"error: {path}") and checked.err.count("\n") == 1, checked.err
        return
    if kind in ("key", "add") and BAD_DATE.search(choice):
        raise AssertionError(f"accepted {choice!r}: a date of another form, out of range, or "
                             "after the horizon")
    out = folder / "out"
    swept = cli(["sweep", str(path), "--out", str(out), "--workers", "1", "--quiet"], folder)
    assert swept.code in (0, 2), swept.err
    assert "Traceback" not in swept.err
    if swept.code == 0:
        summary = cli(["summary", str(out)], folder)
        assert summary.code == 0, summary.err


@pytest.mark.parametrize("key", ODD_KEYS)
@pytest.mark.parametrize("value", ["1", "40", "1e9", "2525-01-01"])
def test_an_odd_override_is_refused_or_acts(tmp_path: Path, key: str, value: str) -> None:
    """Every odd key, as a scenario's override: refused in one line, or accepted only where
    it acts (never a date of another form, out of range, or after the horizon)."""
    at = NAMED.index("[scenarios.more]")
    path = tmp_path / "exp.toml"
    path.write_text(edited(NAMED, "add", at, key, value), encoding="utf-8")
    checked = cli(["check", str(path)], tmp_path)
    assert checked.code in (0, 2) and "Traceback" not in checked.err, checked.err
    if checked.code == 2:
        assert checked.err.startswith(f"error: {path}") and checked.err.count("\n") == 1, checked.err
    assert not (checked.code == 0 and (BAD_DATE.search(key) or key in REFUSED)), f"accepted {key} = {value}"
