"""Generated model files, as a careless edit makes them: ``opvang check`` and ``opvang run``
answer 0 or 2 (a clean message naming the file), never a traceback, never a hang.

Each example changes one line of the baseline model file: a value replaced by an odd literal
(zero, negative, huge, tiny, infinite, not a number, text, a table, a deep array, a
five-thousand-digit integer), or the line deleted.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from cli_runner import cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "haarlem.toml"
LINES = MODEL.read_text(encoding="utf-8").splitlines()
ASSIGNMENTS = [i for i, line in enumerate(LINES) if re.match(r"^[\w\"\-.]+ = ", line)]
ODD = ["0", "-1", "-0.5", "1e12", "1e-300", "1e308", "inf", "-inf", "nan", '"text"', "true",
       "[]", "{}", "[[1, 2]]", "{ x = 1 }", "2019-13-01", "9" * 5000, "[" * 3000 + "]" * 3000,
       "0.9999999", "100000", "2200", "1900-01-01"]


def mutate(index: int, odd: str | None) -> str:
    """The model file with line ``index`` deleted (``odd`` None) or its value replaced."""
    lines = list(LINES)
    if odd is None:
        del lines[index]
    else:
        key = lines[index].split(" = ", 1)[0]
        lines[index] = f"{key} = {odd}"
    return "\n".join(lines) + "\n"


@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(index=st.sampled_from(ASSIGNMENTS), odd=st.one_of(st.none(), st.sampled_from(ODD)))
def test_a_mutated_model_file_is_run_or_refused_cleanly(tmp_path: Path, index: int,
                                                        odd: str | None) -> None:
    folder = tmp_path / f"case-{index}-{abs(hash(odd)) % 10**8}"
    folder.mkdir()
    path = folder / "haarlem.toml"
    path.write_text(mutate(index, odd), encoding="utf-8")
    checked = cli(["check", str(path)])
    assert checked.code in (0, 2), checked.err
    assert "Traceback" not in checked.err
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
