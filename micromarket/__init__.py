"""micromarket: a self-hostable marketplace for micro-entrepreneurs."""

__version__ = "0.1.0"
