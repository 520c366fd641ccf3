"""Studies: experiments, sweeps, sampling, sensitivity, comparison, summaries, calibration."""
