"""Errors raised for bad input: each names the file, the key and what was expected."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

SUGGESTION = "; did you mean "


class InputError(Exception):
    """Bad input in a model, experiment or target file (command-line exit code 2)."""

    def __init__(self, file: str, key: str, expected: str) -> None:
        self.file = file
        self.key = key
        self.expected = expected
        where = f"{file}: {key}" if key else file
        super().__init__(f"{where}: {expected}")

    def __reduce__(self) -> tuple[type[InputError], tuple[str, str, str]]:
        """Pickle by the three fields (an error raised in a worker process crosses back)."""
        return type(self), (self.file, self.key, self.expected)


def did_you_mean(name: str, options: Iterable[str], show: str = "{}") -> str:
    """``; did you mean 'X'?`` for the option closest to a misspelt ``name`` (``show``
    formats it, e.g. as a whole dotted key), or "" when none is close."""
    close = difflib.get_close_matches(str(name), [str(o) for o in options], n=1, cutoff=0.6)
    return f"{SUGGESTION}{show.format(close[0])!r}?" if close else ""


def suggestion(message: str) -> str:
    """The ``did you mean`` tail of an error's message, to pass on when re-raising it."""
    _, found, rest = message.partition(SUGGESTION)
    return f"{found}{rest}" if found else ""
