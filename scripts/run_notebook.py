"""Execute a notebook into a new file; the notebook itself stays as it is.

Usage (the tools: pip install -e ".[notebooks]"):

    python scripts/run_notebook.py notebooks/03_single_rooms.ipynb --replications 2 --out /tmp/x.ipynb

--replications N runs every sweep of the notebook with N replications (into RESULTS/NAME-rN, see
sim.study.analysis), --results DIR puts the results under DIR (default: results/ of the project).
The policy notebooks write their answer from the numbers of the run they execute (a last code
cell); with few replications it says that its ranges rest on few values. --out must not exist and
must not be the notebook (nothing is overwritten).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from sim.batch.dataset import write_atomic


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebook", type=Path)
    parser.add_argument("--out", type=Path, required=True, help="the executed copy (a new file)")
    parser.add_argument("--replications", "-n", type=int, default=None)
    parser.add_argument("--results", type=Path, default=None)
    parser.add_argument("--timeout", type=int, default=3600, help="seconds a cell may take")
    args = parser.parse_args(argv)
    if not args.notebook.is_file():
        print(f"error: {args.notebook}: no such notebook", file=sys.stderr)
        return 2
    if args.out.resolve() == args.notebook.resolve() or args.out.exists():
        print(f"error: --out {args.out}: exists or is the notebook itself; give a new file",
              file=sys.stderr)
        return 2
    if args.replications is not None:
        if args.replications < 1:
            print("error: --replications: expected 1 or more", file=sys.stderr)
            return 2
        os.environ["OPVANG_NOTEBOOK_REPLICATIONS"] = str(args.replications)
    if args.results is not None:
        os.environ["OPVANG_NOTEBOOK_RESULTS"] = str(args.results.resolve())
    os.environ.setdefault("MPLBACKEND", "Agg")
    nb = nbformat.read(args.notebook, as_version=4)
    folder = str(args.notebook.resolve().parent)
    NotebookClient(nb, timeout=args.timeout, kernel_name="python3",
                   resources={"metadata": {"path": folder}}).execute()
    write_atomic(args.out, nbformat.writes(nb).encode("utf-8"))
    note = (f"; with {args.replications} replications: a quick check, not figures to quote"
            if args.replications else "")
    print(f"executed {args.notebook} into {args.out}{note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
