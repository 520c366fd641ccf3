"""Command-line parsing: one-line errors naming the option, and integers checked against
their sane range (:mod:`sim.input.limits`) before anything runs."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from typing import NoReturn

from sim.input.limits import out_of_range


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line: ``error: --seed: expected ...`` (exit 2)."""

    def error(self, message: str) -> NoReturn:
        """Print ``error: OPTION: message`` on one line and exit with code 2."""
        match = re.fullmatch(r"argument ([^:]+): (.*)", message, re.S)
        if match:
            names = match[1].split("/")
            message = f"{next((n for n in names if n.startswith('--')), names[0])}: {match[2]}"
        self.exit(2, f"error: {' '.join(message.split())}\n")


def integer(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: an integer from ``low`` to ``high``."""

    def parse(text: str) -> int:
        """The integer in ``text``, or an error naming the range."""
        try:
            value = int(text)
        except ValueError:
            shown = text if len(text) <= 40 else f"{text[:20]}... ({len(text)} characters)"
            raise argparse.ArgumentTypeError(f"expected an integer from {low} to {high}, "
                                             f"got {shown!r}") from None
        problem = out_of_range(value, low, high)
        if problem:
            raise argparse.ArgumentTypeError(problem)
        return value

    parse.__name__ = f"integer from {low} to {high}"
    return parse
