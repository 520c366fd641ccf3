"""The machine's speed in bare SimPy: events a second of a plain SimPy model, measured in the
same run as a benchmark, so that its absolute times can be read against the machine.

Usage: python scripts/bare_simpy.py [--seconds S]

The workload is the simplest shape of ours: processes that wait on timeouts of random length
(M/M/1-like clients holding nothing), with SimPy's own ``Environment`` and ``Process``. The
machines are shared and noisy (up to 3x from day to day): every benchmark prints this rate
beside its times (``events_per_second``), and figures are compared as ratios within one run.
"""

from __future__ import annotations

import argparse
import random
import time

import simpy

N_PROCESSES = 200


def _client(env: simpy.Environment, rng: random.Random) -> simpy.events.ProcessGenerator:
    while True:
        yield env.timeout(rng.expovariate(1.0))


def events_per_second(seconds: float = 1.0) -> float:
    """SimPy events processed a CPU second by a plain model, over about ``seconds``; the best
    of three rounds (the least disturbed by other work on the machine)."""
    rates = []
    for round_ in range(3):
        rng = random.Random(round_)  # its own generator: no global random state
        env = simpy.Environment()
        for _ in range(N_PROCESSES):
            env.process(_client(env, rng))
        events, started, until = 0, time.process_time(), 0.0
        while time.process_time() - started < seconds / 3:
            until += 1000.0
            env.run(until=until)
        elapsed = time.process_time() - started
        events = next(env._eid)  # SimPy's count of events scheduled (private, benchmark only)
        rates.append(events / elapsed)
    return max(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    print(f"bare SimPy: {events_per_second(args.seconds):,.0f} events per CPU second "
          f"(simpy {simpy.__version__})")


if __name__ == "__main__":
    main()
