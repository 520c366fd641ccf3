"""Simulation optimisation over an experiment: the ``[optimise]`` table, the search, the
ranking-and-selection stage, and ``opvang optimise``."""
