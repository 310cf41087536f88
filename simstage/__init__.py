"""simstage: one language model plays every character of a scene."""

__version__ = "0.1.0"
