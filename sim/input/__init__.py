"""Input checks: errors, limits, value checks, the schema of model and experiment files,
command-line options."""
