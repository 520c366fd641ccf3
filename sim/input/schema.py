"""Build frozen dataclasses from parsed TOML, checking types and unknown keys.

A small typed loader: it walks the type hints of a dataclass and reports the first
mismatch as an :class:`InputError` naming the dotted key and what was expected.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import math
import types
import typing
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

from sim.input.checks import date_in_range
from sim.input.errors import InputError, did_you_mean

T = TypeVar("T")


def build(cls: type[T], data: Any, file: str, key: str = "") -> T:
    """Construct ``cls`` from ``data``, validating against its type hints."""
    return typing.cast(T, _convert(cls, data, file, key))


def _describe(tp: Any) -> str:
    origin = get_origin(tp)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(tp))
    if origin in (Union, types.UnionType):
        return " or ".join(_describe(a) for a in get_args(tp) if a is not type(None))
    if origin is tuple:
        return f"a list of {_describe(get_args(tp)[0])}"
    if origin is dict:
        return f"a table of {_describe(get_args(tp)[1])}"
    if dataclasses.is_dataclass(tp):
        return "a table"
    return {int: "an integer", float: "a number", str: "a string", bool: "true or false",
            dt.date: "a date (YYYY-MM-DD)"}.get(tp, str(tp))


def _convert(tp: Any, value: Any, file: str, key: str) -> Any:
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        options = get_args(tp)
        if value is None and type(None) in options:
            return None
        for option in options:
            if option is type(None):
                continue
            if (dataclasses.is_dataclass(option) and isinstance(value, dict)) or (
                    option is dt.date and isinstance(value, dt.date)):
                return _convert(option, value, file, key)  # let the nested error through
            try:
                return _convert(option, value, file, key)
            except InputError:
                continue
        raise InputError(file, key, f"expected {_describe(tp)}, got {value!r}")
    if origin is Literal:
        if value not in get_args(tp):
            raise InputError(file, key, f"expected {_describe(tp)}, got {value!r}")
        return value
    if origin is tuple:  # only tuple[X, ...]: a TOML array, stored immutable
        if not isinstance(value, list):
            raise InputError(file, key, f"expected {_describe(tp)}, got {value!r}")
        item = get_args(tp)[0]
        return tuple(_convert(item, v, file, f"{key}[{i}]") for i, v in enumerate(value))
    if origin is dict:
        if not isinstance(value, dict):
            raise InputError(file, key, f"expected {_describe(tp)}, got {value!r}")
        key_type, item = get_args(tp)
        for k in value:
            if get_origin(key_type) is Literal and k not in get_args(key_type):
                raise InputError(file, _join(key, str(k)), f"unknown key; expected "
                                 f"{_describe(key_type)}{did_you_mean(k, get_args(key_type))}")
        return {str(k): _convert(item, v, file, _join(key, str(k))) for k, v in value.items()}
    if dataclasses.is_dataclass(tp):
        return _build_dataclass(typing.cast(type, tp), value, file, key)
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InputError(file, key, f"expected a number, got {value!r}")
        if not math.isfinite(value):
            raise InputError(file, key, f"expected a finite number, got {value!r}")
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InputError(file, key, f"expected an integer, got {value!r}")
        return value
    if tp is dt.date:
        if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
            raise InputError(file, key, f"expected a date (YYYY-MM-DD), got {value!r}")
        date_in_range(value, file, key)
        return value
    if tp in (str, bool):
        if not isinstance(value, tp):
            raise InputError(file, key, f"expected {_describe(tp)}, got {value!r}")
        return value
    raise TypeError(f"schema type {tp!r} is not supported")  # a bug in the schema, not input


def _build_dataclass(cls: type, value: Any, file: str, key: str) -> Any:
    if not isinstance(value, dict):
        raise InputError(file, key, f"expected a table, got {value!r}")
    hints = _hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(value) - set(fields))
    if unknown:
        raise InputError(file, _join(key, unknown[0]), f"unknown key; expected one of "
                         f"{', '.join(sorted(fields))}{did_you_mean(unknown[0], fields)}")
    kwargs = {}
    for name, field in fields.items():
        if name in value:
            kwargs[name] = _convert(hints[name], value[name], file, _join(key, name))
        elif is_required(field):
            raise InputError(file, _join(key, name), f"missing; expected {_describe(hints[name])}")
    return cls(**kwargs)


REQUIRED = {"required": True}  # field metadata: required though it has a default (that lets
# the fields before it in a positional call keep defaults of their own)


def is_required(field: dataclasses.Field[Any]) -> bool:
    """Whether a model file must give the field."""
    return bool(field.metadata.get("required")) or (
        field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING)


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    """A dataclass's resolved type hints (resolving them is most of the time of a build)."""
    return get_type_hints(cls)


def _join(key: str, name: str) -> str:
    return f"{key}.{name}" if key else name


def field_type(cls: type, parts: list[str]) -> Any:
    """The schema type at a dotted path below ``cls``; None when the path is not in the schema."""
    tp: Any = cls
    for part in parts:
        while get_origin(tp) in (Union, types.UnionType):
            tp = next(a for a in get_args(tp) if a is not type(None))
        if dataclasses.is_dataclass(tp):
            hints = _hints(typing.cast(type, tp))
            if part not in hints:
                return None
            tp = hints[part]
        elif get_origin(tp) is dict:
            tp = get_args(tp)[1]
        else:
            return None
    return tp
