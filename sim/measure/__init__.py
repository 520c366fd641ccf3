"""Measurement: what a replication recorded, the yearly and daily tables derived from the
event log, the key indicators and the data dictionary."""
