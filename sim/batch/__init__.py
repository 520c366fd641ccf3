"""Running many replications: tasks, backends, results on disk, provenance."""
