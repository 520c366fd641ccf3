"""Discrete-event simulation of client flows through opvang and beschermd wonen."""

from sim.engine import run_replication
from sim.errors import InputError
from sim.model import Model
from sim.modelfile import load
from sim.runner import Results, run
from sim.sweep import run_experiment

__all__ = ["InputError", "Model", "Results", "load", "run", "run_experiment", "run_replication"]
