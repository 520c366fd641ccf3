"""``opvang keys [MODEL]``: every key an experiment can override, with its value and its tag.

A model file tags each number in a comment on its line: ``# data: <source>`` or
``# assumption [lo, hi]: <why>``. The comments are read here with a small line parser (TOML
parsers drop comments): a key's tag is the comment of its own line or, for a field of an
inline table (``2019-01-01 = { places = 30, ... }  # data: ...``), the comment of that table's
line. A derived model file (a fit: ``base`` + ``overrides``) shows its resolved values, tagged
``fitted``, beside the base file's tags.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.model.files import read_toml, resolve, split_dotted

TAG = re.compile(r"^\s*(data|assumption)\b\s*(\[([^\]]*)\])?\s*:?\s*(.*)$", re.DOTALL)
BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class Key:
    """One overridable key: dotted name, value, tag (data, assumption, fitted or empty), the
    assumption's range and the rest of the comment."""

    key: str
    value: Any
    tag: str
    range: str
    note: str


def model_keys(path: Path) -> list[Key]:
    """Every leaf key of the resolved model ``path``, in file order, with its tag."""
    raw = read_toml(path)
    base = (path.parent / raw["base"]).resolve() if "base" in raw else path
    fitted = set(raw.get("overrides", {})) if "base" in raw else set()
    notes = comments(base)
    out = []
    for key, value in leaves(resolve(path)):
        comment = _nearest(notes, key)
        tag, span, note = parse_tag(comment)
        if key in fitted:
            tag, note = "fitted", f"{path.name} (base: {tag} {span}) {note}".strip()
        out.append(Key(key, value, tag, span, note))
    return out


def leaves(table: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Dotted keys and values of the scalars and lists of a nested mapping."""
    for key, value in table.items():
        part = key if BARE_KEY.fullmatch(key) else f'"{key}"'
        dotted = f"{prefix}.{part}" if prefix else part
        if isinstance(value, dict):
            yield from leaves(value, dotted)
        else:
            yield dotted, value


def comments(path: Path) -> dict[str, str]:
    """The comment at the end of each ``key = value`` line, by dotted key (tables included)."""
    out: dict[str, str] = {}
    table = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        code, comment = split_comment(line)
        code = code.strip()
        if code.startswith("[") and not code.startswith("[["):
            table = _dotted(code.strip("[]").strip())
            if comment:
                out[table] = comment
        elif "=" in code and comment:
            name = _dotted(code.split("=", 1)[0].strip())
            out[f"{table}.{name}" if table else name] = comment
    return out


def split_comment(line: str) -> tuple[str, str]:
    """A line's code and its comment (a ``#`` outside quotes starts it)."""
    quote = ""
    for i, char in enumerate(line):
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == "#":
            return line[:i], line[i + 1:].strip()
    return line, ""


def parse_tag(comment: str) -> tuple[str, str, str]:
    """``data: ...`` or ``assumption [lo, hi]: ...`` as (tag, range, note); other comments are
    a note without a tag."""
    match = TAG.match(comment)
    if not match:
        return "", "", comment
    return match[1], (f"[{match[3]}]" if match[3] is not None else ""), match[4].strip()


def _dotted(text: str) -> str:
    """A TOML key as written (``a."b c".d``, spaces around dots) in the dotted form of overrides."""
    parts = [p.strip().strip('"').strip("'") for p in split_dotted(text.replace("'", '"'))]
    return ".".join(p if BARE_KEY.fullmatch(p) else f'"{p}"' for p in parts)


def _nearest(notes: Mapping[str, str], key: str) -> str:
    """The comment of ``key`` or of the nearest table above it that has one on its line
    (an inline table's fields share its line)."""
    parts = split_dotted(key)
    for n in range(len(parts), 0, -1):
        candidate = ".".join(p if BARE_KEY.fullmatch(p) else f'"{p}"' for p in parts[:n])
        if candidate in notes:
            return notes[candidate]
    return ""


def shown(value: Any) -> str:
    """A value as TOML writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list):
        return "[" + ", ".join(shown(v) for v in value) + "]"
    return str(value)


def format_keys(keys: list[Key], width: int = 60) -> str:
    """One line per key: key, value, tag with range, note (cut at ``width``)."""
    rows = [(k.key, _cut(shown(k.value), 30), f"{k.tag} {k.range}".strip(), _cut(k.note, width))
            for k in keys]
    wide = [max(len(r[i]) for r in rows) if rows else 0 for i in range(3)]
    return "\n".join(f"{a:<{wide[0]}}  {b:<{wide[1]}}  {c:<{wide[2]}}  {d}".rstrip() for a, b, c, d in rows)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."
