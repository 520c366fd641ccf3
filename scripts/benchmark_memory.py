"""Peak memory of ``opvang run`` by number of replications: it must not grow with them.

Usage: python scripts/benchmark_memory.py [--model FILE] [--until YEAR] [--replications N ...]
                                          [--source DIR]

For each N (default 1 and 20) runs ``opvang run MODEL --replications N --until YEAR --quiet``
(default the calibrated model until 2070) as a child process, into a temporary folder, and
prints the child's peak resident memory (``ru_maxrss`` from ``wait4``, the whole process),
its wall time, and its peak against the first N. ``opvang run`` writes each replication to
disk as it finishes and keeps only the annual table, so the peak should stay within twice
that of one replication.

``--source DIR`` runs the ``sim`` package and the model files of another checkout instead of
this one, to compare with earlier code, e.g. ``git archive COMMIT | tar -x -C /tmp/old``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def peak_of_run(source: Path, model: str, replications: int, until: int) -> tuple[float, float, int]:
    """Peak resident MiB, wall seconds and exit code of one ``opvang run`` in a child process."""
    with tempfile.TemporaryDirectory() as tmp:
        paths = [str(source), *filter(None, [os.environ.get("PYTHONPATH")])]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
        started = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-m", "sim", "run", model, "--replications",
                                  str(replications), "--until", str(until), "--out",
                                  str(Path(tmp) / "out"), "--quiet"], cwd=source, env=env,
                                 stdout=subprocess.DEVNULL)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
    return usage.ru_maxrss / 1024, seconds, child.returncode  # ru_maxrss is in KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--model", default="calibration/fitted/haarlem.toml")
    parser.add_argument("--until", type=int, default=2070)
    parser.add_argument("--replications", type=int, nargs="+", default=[1, 20])
    parser.add_argument("--source", type=Path, default=ROOT,
                        help="checkout whose sim package and model files run (default: this one)")
    args = parser.parse_args()
    print(f"opvang run {args.model} --until {args.until} ({args.source}); peak resident memory "
          "of the whole process")
    print(f"  {'replications':>12} {'peak MiB':>9} {'seconds':>8} {'against first':>14}")
    first = 0.0
    for n in args.replications:
        peak, seconds, code = peak_of_run(args.source.resolve(), args.model, n, args.until)
        if code != 0:
            sys.exit(f"opvang run --replications {n} failed with exit code {code}")
        first = first or peak
        print(f"  {n:>12} {peak:>9.0f} {seconds:>8.1f} {peak / first:>13.2f}x")


if __name__ == "__main__":
    main()
