"""The clock, passed in: the core never reads the time itself, so outputs are reproducible."""

from __future__ import annotations

import datetime as dt
from typing import Protocol


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """An aware UTC datetime."""
        ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class FixedClock:
    """A clock stopped at one instant; for tests and for replaying a record."""

    def __init__(self, instant: dt.datetime) -> None:
        if instant.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._instant = instant.astimezone(dt.UTC)

    def now(self) -> dt.datetime:
        return self._instant


def parse_instant(text: str) -> dt.datetime:
    """Parse an RFC 3339 / ISO 8601 timestamp (``Z`` allowed) into an aware UTC datetime."""
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def format_instant(instant: dt.datetime) -> str:
    """``2026-11-26T01:30:05Z``: second precision, UTC, the form every output uses."""
    return instant.astimezone(dt.UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
