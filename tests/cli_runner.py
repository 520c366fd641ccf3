"""Run the command line in-process, capturing its exit code and output (shared by tests)."""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from types import SimpleNamespace

import pytest

from sim.cli import main

ROOT = Path(__file__).resolve().parents[1]


def cli(argv: list[str], cwd: Path = ROOT) -> SimpleNamespace:
    """``opvang ARGV`` run in ``cwd`` (default the repository root): code, out, err."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(cwd)
        with redirect_stdout(stdout), redirect_stderr(stderr):
            code = main(argv)
    return SimpleNamespace(code=code, out=stdout.getvalue(), err=stderr.getvalue())
