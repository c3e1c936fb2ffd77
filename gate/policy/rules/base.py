"""What every rule receives and returns."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from gate.model import DatabaseInfo, Environment, Finding, Match, Violation
from gate.policy.model import Policy


@dataclass(frozen=True, kw_only=True, slots=True)
class Context:
    environment: Environment
    policy: Policy
    matches: tuple[Match, ...]
    database: DatabaseInfo | None
    now: dt.datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class Outcome:
    findings: tuple[Finding, ...] = ()
    violations: tuple[Violation, ...] = ()
    notes: tuple[str, ...] = ()


class Rule(Protocol):
    """A policy section's check. Pure: all it needs is in the context."""

    section: str

    def check(self, context: Context) -> Outcome: ...
