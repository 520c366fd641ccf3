"""Errors raised for bad input: each names the file, the key and what was expected."""

from __future__ import annotations


class InputError(Exception):
    """Bad input in a model, experiment or target file (command-line exit code 2)."""

    def __init__(self, file: str, key: str, expected: str) -> None:
        self.file = file
        self.key = key
        self.expected = expected
        where = f"{file}: {key}" if key else file
        super().__init__(f"{where}: {expected}")
