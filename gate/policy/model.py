"""The typed policy the evaluator reads. Built only by :mod:`gate.policy.loader`, after the
schema has accepted the data, so the evaluator never meets a malformed rule."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from packaging.specifiers import SpecifierSet

from gate.model import Level, Target, Waiver


class OnUnknown(enum.StrEnum):
    BLOCK = "block"
    WARN = "warn"


@dataclass(frozen=True, kw_only=True, slots=True)
class AdvisoryDbRules:
    max_age_days: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class VulnerabilityRules:
    block_at: Level = Level.LOW
    unknown_severity: OnUnknown = OnUnknown.BLOCK
    uncertain_match: OnUnknown = OnUnknown.BLOCK
    waivers: tuple[Waiver, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class DeniedPackage:
    name: str  # normalised
    versions: SpecifierSet | None
    reason: str


@dataclass(frozen=True, kw_only=True, slots=True)
class PackageRules:
    deny: tuple[DeniedPackage, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class Policy:
    path: str
    digest: str  # sha256 of the canonical JSON of ``effective``
    effective: dict[str, Any]  # the merged policy as plain data
    stage: str | None = None
    advisory_db: AdvisoryDbRules | None = None
    vulnerabilities: VulnerabilityRules | None = None
    packages: PackageRules | None = None
    target: Target | None = None
