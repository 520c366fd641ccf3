"""The engine: SimPy processes, waiting lists, clients, random streams, the calendar, the
event log and its spans. It knows nothing of shelters or of the model file."""
