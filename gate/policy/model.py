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


class OnUnknownLicense(enum.StrEnum):
    BLOCK = "block"
    WARN = "warn"
    ALLOW = "allow"


@dataclass(frozen=True, kw_only=True, slots=True)
class LicenseOverride:
    package: str  # normalised
    versions: SpecifierSet | None
    license: str  # a valid SPDX expression
    reason: str


@dataclass(frozen=True, kw_only=True, slots=True)
class LicenseRules:
    allow: frozenset[str] | None = None
    deny: frozenset[str] = frozenset()
    deny_categories: frozenset[str] = frozenset()
    unknown: OnUnknownLicense = OnUnknownLicense.BLOCK
    overrides: tuple[LicenseOverride, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class SourceRules:
    indexes: tuple[str, ...] | None = None  # allowed URL prefixes; None: not checked
    channels: tuple[str, ...] | None = None
    forbid: frozenset[str] = frozenset()  # SourceKind values
    require_hashes: bool = False
    require_pins: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class RegistryRules:
    url: str = "https://pypi.org/simple"
    min_release_age_days: int | None = None
    forbid_yanked: bool = False
    verify_hashes: bool = False
    cache_max_age_hours: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class ConsistencyRules:
    enforce: bool = True


@dataclass(frozen=True, kw_only=True, slots=True)
class DriftRules:
    forbid: frozenset[str] = frozenset()  # added, removed, changed, modified_files


class OnFinding(enum.StrEnum):
    BLOCK = "block"
    WARN = "warn"
    ALLOW = "allow"


@dataclass(frozen=True, kw_only=True, slots=True)
class ModelRules:
    paths: tuple[str, ...] = ()  # resolved against the folder of the policy file that set them
    allowed_formats: frozenset[str] | None = None  # None: every identified format
    unknown_format: OnUnknown = OnUnknown.BLOCK
    block_unsafe: bool = True  # dangerous imports, unsafe archives, files that cannot be scanned
    suspicious: OnFinding = OnFinding.WARN
    manifest: tuple[tuple[str, str, str], ...] | None = None  # (as written, resolved real path, sha256 hex)
    unlisted: OnFinding = OnFinding.BLOCK  # a scanned file the manifest does not list


@dataclass(frozen=True, kw_only=True, slots=True)
class RecordRules:
    require_signature: bool = False


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
    licenses: LicenseRules | None = None
    sources: SourceRules | None = None
    registry: RegistryRules | None = None
    consistency: ConsistencyRules | None = None
    drift: DriftRules | None = None
    record: RecordRules | None = None
    models: ModelRules | None = None
