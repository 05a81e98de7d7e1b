"""booking's version, said once: the facade re-exports it and the build reads it."""

__version__ = "0.1.0"
