"""The finished sweeps under the folder the page serves: the only datasets it offers. The page
shows their names; a name chosen there is looked up here, never read as a path."""

from __future__ import annotations

from pathlib import Path

from sim.batch.dataset import MANIFEST, read_manifest
from sim.page.levers import OWN

DEPTH = 3  # folders below the served one searched for sweeps


def finished(folder: Path) -> dict[str, Path]:
    """``name -> folder`` of every complete sweep or run under ``folder`` (the page's own
    results aside), the name being its path relative to ``folder``."""
    found: dict[str, Path] = {}
    root = folder.resolve()
    for depth in range(DEPTH + 1):
        for manifest in sorted(root.glob("/".join(["*"] * depth + [MANIFEST]))):
            where = manifest.parent
            relative = where.relative_to(root)
            real = where.resolve()
            if relative.parts[:1] == (OWN,) or (real != root and root not in real.parents):
                continue  # the page's own runs; a link that leads out of the folder
            record = read_manifest(where) or {}
            if record.get("status", "complete") == "complete" and (where / "annual").is_dir():
                found[relative.as_posix() or "."] = where
    return found
