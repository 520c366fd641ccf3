"""Model files: read, resolve derived files, apply dotted-key overrides, build and hash.

A model file is TOML; a derived model file names a ``base`` and ``overrides``. Dotted keys
(``a."b.c".d``) are the one language of overrides, grids, priors and posteriors. Variants
are made with :func:`with_overrides` on the raw mapping, never by mutating a model.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import hashlib
import json
import tomllib
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Union, get_args, get_origin

from sim.input.errors import InputError, did_you_mean
from sim.input.schema import build, field_type, is_required
from sim.model.root import Model, complete, validate


def load(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Model:
    """Read, override and validate a model file (a full model or a derived one)."""
    path = Path(path)
    raw = resolve(path)
    if overrides:
        raw = with_overrides(raw, overrides, str(path))
    return from_mapping(raw, str(path))


def resolve(path: Path, seen: frozenset[Path] = frozenset()) -> dict[str, Any]:
    """The full model mapping of a file.

    A derived model file (such as a calibration's fitted parameters) names a ``base`` model
    file, relative to itself, and ``overrides`` as dotted keys; a ``name`` and
    ``description`` of its own are optional.
    """
    raw = read_toml(path)
    if "base" not in raw:
        return raw
    extra = sorted(set(raw) - {"base", "overrides", "name", "description"})
    if extra:
        raise InputError(str(path), extra[0],
                         "unknown key in a derived model; expected base, overrides, name, description")
    if not isinstance(raw["base"], str):
        raise InputError(str(path), "base", "expected the path of a model file")
    overrides = raw.get("overrides", {})
    if not isinstance(overrides, dict):
        raise InputError(str(path), "overrides", "expected a table of dotted keys")
    base = (path.parent / raw["base"]).resolve()
    if base in seen | {path.resolve()}:
        raise InputError(str(path), "base", "a chain of base models that loops")
    out = with_overrides(resolve(base, seen | {path.resolve()}), overrides, str(path))
    for key in ("name", "description"):
        if key in raw:
            out[key] = raw[key]
    return out


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file, turning every failure into an :class:`InputError`."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise InputError(str(path), "", "file not found") from None
    except OSError as err:
        raise InputError(str(path), "", f"cannot be read ({err.strerror})") from None
    except UnicodeDecodeError as err:
        raise InputError(str(path), "", f"not UTF-8 text ({err.reason} at byte {err.start})") from None
    except tomllib.TOMLDecodeError as err:
        raise InputError(str(path), "", f"not valid TOML ({err})") from None
    except RecursionError:
        raise InputError(str(path), "", "not a model file: tables or arrays nested too deep") from None
    except ValueError as err:  # an integer of thousands of digits
        raise InputError(str(path), "", f"not a model file: {err}") from None


def from_mapping(raw: Mapping[str, Any], file: str = "<model>") -> Model:
    """Build and validate a model from parsed TOML."""
    model = complete(build(Model, dict(raw), file))
    model = dataclasses.replace(model, source=file)
    validate(model, file)
    return model


def with_overrides(raw: Mapping[str, Any], overrides: Mapping[str, Any],
                   file: str, add_entries: bool = True) -> dict[str, Any]:
    """Return a copy of ``raw`` with dotted keys replaced or added.

    The key must exist in the file, be a field of the schema left at its default (such as a
    group's ``demand``), or be a new entry of a table with free keys (a dated schedule entry,
    a decision outcome) unless ``add_entries`` is False; a table on the way that the file
    does not have yet is added on the same terms (``facilities.x.schedule.2025-01-01.places``
    adds that dated entry). Anything else is an error naming the key. The result is validated
    when the model is built.
    """
    out = copy.deepcopy(dict(raw))
    for dotted, value in overrides.items():
        parts = split_dotted(dotted)
        node: Any = out
        for i, part in enumerate(parts[:-1]):
            if isinstance(node, dict) and part not in node and _may_add(parts[: i + 1], add_entries):
                node[part] = {}
            if not isinstance(node, dict) or part not in node:
                raise _no_such_key(file, parts, i, node)
            node = node[part]
        known = isinstance(node, dict) and (
            parts[-1] in node or _is_schema_field(parts)
            or (add_entries and _is_free_table(parts[:-1])))
        if not known:
            raise _no_such_key(file, parts, len(parts) - 1, node)
        node[parts[-1]] = copy.deepcopy(value)
    return out


def _no_such_key(file: str, parts: list[str], i: int, node: Any) -> InputError:
    """The error for an override whose ``i``-th part is neither in the file nor a field of the
    schema there, suggesting the nearest that is (``...schedule.2025-01-01.place``: did you
    mean ``...places``?)."""
    options = set(node) if isinstance(node, dict) else set()
    parent = _unoptional(field_type(Model, parts[:i]))
    if isinstance(node, dict) and dataclasses.is_dataclass(parent):
        options |= {f.name for f in dataclasses.fields(parent)}
    escaped = [p.replace("{", "{{").replace("}", "}}") for p in parts]
    show = join_dotted([*escaped[:i], "{}", *escaped[i + 1:]])
    return InputError(file, ".".join(parts[: i + 1]), "override of a key that does not exist"
                      + did_you_mean(parts[i], options, show))


def join_dotted(parts: list[str]) -> str:
    """The dotted key of ``parts``, quoting a part that holds a dot (:func:`split_dotted`'s inverse)."""
    return ".".join(f'"{p}"' if "." in p else p for p in parts)


def _may_add(parts: list[str], add_entries: bool) -> bool:
    """Whether a missing table at this path may be added: a schema field left at its default,
    or a new entry of a table with free keys, whose type is a table that may be given in part
    (a dated schedule entry: yes; a whole new group: no)."""
    tp = _unoptional(field_type(Model, parts))
    partial = get_origin(tp) is dict or (dataclasses.is_dataclass(tp) and not any(
        is_required(f) for f in dataclasses.fields(tp)))
    return partial and (_is_schema_field(parts) or (add_entries and _is_free_table(parts[:-1])))


def _unoptional(tp: Any) -> Any:
    while get_origin(tp) in (Union, types.UnionType):
        tp = next(a for a in get_args(tp) if a is not type(None))
    return tp


def _is_free_table(parts: list[str]) -> bool:
    """Whether the table at this path takes any key (a dict in the schema)."""
    return get_origin(field_type(Model, parts)) is dict


def _is_schema_field(parts: list[str]) -> bool:
    """Whether the last part names a field of a dataclass (not a free table key)."""
    parent = _unoptional(field_type(Model, parts[:-1]))
    return dataclasses.is_dataclass(parent) and field_type(Model, parts) is not None


def split_dotted(dotted: str) -> list[str]:
    """Split ``a."b.c".d`` into ``["a", "b.c", "d"]``."""
    parts, current, quoted = [], "", False
    for char in dotted:
        if char == '"':
            quoted = not quoted
        elif char == "." and not quoted:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def model_hash(model: Model) -> str:
    """A stable hash of the resolved model (its source path excluded)."""
    data = to_jsonable(dataclasses.replace(model, source=""))
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def to_jsonable(obj: Any) -> Any:
    """The resolved model as plain JSON types (for manifests and hashing)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, dt.date):
        return obj.isoformat()
    return obj
