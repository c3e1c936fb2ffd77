"""Promotion Gate: decide whether a Python/ML environment may be promoted."""

__version__ = "0.1.0"
