"""What every rule receives and returns."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from gate.model import (
    DatabaseInfo,
    Environment,
    Finding,
    Match,
    ModelFile,
    ModifiedFile,
    RegistryFacts,
    Violation,
)
from gate.policy.model import Policy


@dataclass(frozen=True, kw_only=True, slots=True)
class Context:
    environment: Environment
    policy: Policy
    matches: tuple[Match, ...]
    database: DatabaseInfo | None
    now: dt.datetime
    registry: RegistryFacts | None = None  # the index's answers, when the policy has a registry section
    baseline: Environment | None = None  # what was approved before (--baseline)
    modified_files: tuple[ModifiedFile, ...] | None = None  # RECORD verification of an installed venv
    models: tuple[ModelFile, ...] = ()  # model files scanned (--models, policy models.paths)


@dataclass(frozen=True, kw_only=True, slots=True)
class Outcome:
    findings: tuple[Finding, ...] = ()
    violations: tuple[Violation, ...] = ()
    notes: tuple[str, ...] = ()


class Rule(Protocol):
    """A policy section's check. Pure: all it needs is in the context."""

    section: str

    def check(self, context: Context) -> Outcome: ...
