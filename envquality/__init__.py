"""envquality: environmental-quality monitoring for provincial targets."""

__version__ = "0.1.0"
