"""The model: its root dataclass, model files and overrides, posterior draws."""
