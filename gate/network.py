"""What every network edge of the gate shares (the OSV download, the package index): how it
names itself to servers, and how a failed request is said in one line."""

from __future__ import annotations

import http.client

import gate

USER_AGENT = f"promotion-gate/{gate.__version__}"


def describe_error(error: object) -> str:
    """A failed connection or read, in the words an operator needs (no traceback, no repr)."""
    if isinstance(error, TimeoutError):
        return "timed out"
    if isinstance(error, http.client.IncompleteRead):
        return f"incomplete read ({len(error.partial)} bytes)"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__
