"""The on-disk layout of results: one Parquet file per task and table, and a manifest.

::

    results/NAME/manifest.json
    results/NAME/<table>/scenario=<scenario>/rep-<replication>.parquet

    results/NAME/checksums.sha256

Every file is written to a hidden temporary file beside its place, flushed to disk and
renamed into it, so a file that exists was complete when it was written. Its SHA-256 is
then appended to ``checksums.sha256`` (the format of ``sha256sum -c``), so that damage
done later (a full disk, a bad copy, changed bytes) is found when a sweep resumes and
before a table is read (:func:`verify_checksums`). A file that the list does not name yet
(the process was killed between the rename and the append) is checked by reading it back:
footer, page checksums and run keys (:func:`damage`). When a run or a sweep's session ends,
and when a resumed sweep has removed damaged files, the list is rewritten sorted by path
with one line per file on disk (:func:`tidy_checksums`): ``sha256sum -c`` passes after a
repair, and two identical runs give identical lists.
"""

from __future__ import annotations

import hashlib
import json
import os
import string
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from sim.batch.folders import fsync_folder
from sim.input.errors import InputError

MANIFEST = "manifest.json"
CHECKSUMS = "checksums.sha256"
TEMPORARY_SUFFIX = ".tmp"
LAYOUT = "<table>/scenario=<scenario>/rep-<replication>.parquet"
REBUILD = ("a sweep rebuilds it from its experiment file and the data files when its command runs "
           "again (opvang sweep EXPERIMENT --out FOLDER)")


def task_file(out: Path, table: str, scenario: str, replication: int) -> Path:
    """Where one replication's table goes."""
    return out / table / f"scenario={scenario}" / f"rep-{replication:05d}.parquet"


def damage(path: Path, replication: int | None = None, seed: int | None = None) -> str | None:
    """What is wrong with a result file, or None when it reads back whole.

    The file must parse (footer and schema), pass its page checksums and, when they are
    given, hold only rows of ``replication`` and ``seed``.
    """
    try:
        table = pq.read_table(path, page_checksum_verification=True)
    except (OSError, pa.ArrowException) as err:
        return str(err).splitlines()[0] if str(err) else type(err).__name__
    for column, expected in (("replication", replication), ("seed", seed)):
        if expected is None:
            continue
        if column not in table.column_names:
            return f"no column {column}"
        values = set(table.column(column).unique().to_pylist())
        if values - {expected}:
            return f"holds {column} {sorted(values)}, expected {expected}"
    return None


def sha256(data: bytes) -> str:
    """The hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def read_checksums(out: Path) -> dict[str, str]:
    """The recorded SHA-256 of each file by its path under ``out`` (the last line wins).

    A line that does not parse (cut short by a kill) is skipped: its file counts as not
    recorded.
    """
    try:
        text = (out / CHECKSUMS).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return {}
    sums = {}
    for line in text.splitlines():
        digest, sep, name = line.partition("  ")
        if sep and name and len(digest) == 64 and set(digest) <= set(string.hexdigits):
            sums[name] = digest
    return sums


def record_checksum(out: Path, path: Path, data: bytes) -> None:
    """Append the SHA-256 of a file just written (its contents are ``data``)."""
    line = f"{sha256(data)}  {path.relative_to(out).as_posix()}\n"
    with (out / CHECKSUMS).open("a", encoding="utf-8") as fh:
        fh.write(line)


def write_checksums(out: Path, sums: dict[str, str]) -> None:
    """Replace the checksum list atomically: one line per file, sorted by path."""
    text = "".join(f"{digest}  {name}\n" for name, digest in sorted(sums.items()))
    write_atomic(out / CHECKSUMS, text.encode())


def tidy_checksums(out: Path) -> None:
    """Rewrite the checksum list sorted by path, keeping the last line recorded for each file
    that is still on disk (a file removed as damaged loses its stale line)."""
    write_checksums(out, {name: digest for name, digest in read_checksums(out).items()
                          if (out / name).is_file()})


def verify_checksums(out: Path, under: str = "") -> list[tuple[Path, str]]:
    """The files the checksum list names (those below the folder ``under`` of ``out``) that
    are missing or whose bytes differ from it, with what is wrong, in path order."""
    problems = []
    prefix = f"{under.strip('/')}/" if under else ""
    for name, digest in sorted(read_checksums(out).items()):
        if not name.startswith(prefix):
            continue
        path = out / name
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            problems.append((path, f"missing: {CHECKSUMS} lists it"))
            continue
        if sha256(data) != digest:
            problems.append((path, f"its SHA-256 differs from the one in {CHECKSUMS}"))
    return problems


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to a hidden temporary file, flush it to disk and rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}{TEMPORARY_SUFFIX}")
    try:
        with tmp.open("xb") as fh:  # the usual permissions, unlike mkstemp's 0600
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_folder(path.parent)


def is_temporary(path: Path) -> bool:
    """Whether ``path`` is a temporary file of :func:`write_atomic`."""
    return path.name.startswith(".") and path.name.endswith(TEMPORARY_SUFFIX)


def remove_temporary(out: Path) -> int:
    """Remove the temporary files a killed process left behind; return how many."""
    leftovers = [p for p in out.rglob(f".*{TEMPORARY_SUFFIX}") if p.is_file()]
    for path in leftovers:
        path.unlink()
    return len(leftovers)


def read_manifest(out: Path) -> dict[str, Any] | None:
    """The manifest of a results folder, or None when it has none."""
    path = out / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(str(path), "", f"damaged: cannot be read as JSON ({err}); {REBUILD}") from None
    if not isinstance(data, dict):
        raise InputError(str(path), "", f"damaged: expected a JSON object; {REBUILD}")
    return data


def write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    """Replace the manifest atomically."""
    write_atomic(out / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True).encode())
