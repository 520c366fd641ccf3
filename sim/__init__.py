"""Discrete-event simulation of client flows through opvang and beschermd wonen.

The package is in layers, each a sub-package that imports only those below it
(``tests/test_structure.py`` holds the table; ``docs/architecture.md`` describes them):
``engine`` and ``input`` at the bottom, then ``components``, ``model``, ``measure``,
``replication``, ``batch`` and ``study``, with the command line (``sim.cli``) on top.
"""

from sim.batch.runner import Results, run
from sim.input.errors import InputError
from sim.model.files import load
from sim.model.root import Model
from sim.replication.replicate import run_replication
from sim.study import analysis, compare, results
from sim.study.sweep import run_experiment

__all__ = ["InputError", "Model", "Results", "analysis", "compare", "load", "results", "run",
           "run_experiment", "run_replication"]
