"""Calibration of the free parameters to the observed counts (ABC-PMC)."""
