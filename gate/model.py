"""Core types. Frozen, keyword-only and slotted: built once by a reader or the evaluator,
then only read. Names are PEP 503-normalised at construction by the readers; collections
are tuples sorted so that equal inputs give equal objects (and equal digests)."""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
from dataclasses import dataclass, field
from typing import Any


class SourceKind(enum.StrEnum):
    INDEX = "index"
    VCS = "vcs"
    URL = "url"
    PATH = "path"
    EDITABLE = "editable"
    CHANNEL = "channel"
    UNKNOWN = "unknown"


@dataclass(frozen=True, kw_only=True, slots=True)
class Source:
    """Where an artifact came from: an index URL, a VCS URL and commit, a path, a conda channel."""

    kind: SourceKind
    url: str | None = None
    commit: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Location:
    """The file (and line, when the format has lines) that declared a package."""

    file: str
    line: int | None = None

    def __str__(self) -> str:
        return self.file if self.line is None else f"{self.file}:{self.line}"


@dataclass(frozen=True, kw_only=True, slots=True)
class LicenseFields:
    """The raw licence metadata, kept verbatim so reports can show what a verdict rests on."""

    expression: str | None = None  # PEP 639 License-Expression
    text: str | None = None  # the legacy License field
    classifiers: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class Package:
    name: str  # PEP 503-normalised
    version: str | None  # as declared; None when unpinned
    specifier: str | None = None  # the requirement when unpinned
    ecosystem: str = "pypi"  # "pypi" or "conda"
    pypi_name: str | None = None  # name to match PyPI advisories under; None: never matched
    source: Source = Source(kind=SourceKind.UNKNOWN)
    hashes: tuple[tuple[str, str], ...] = ()  # sorted (algorithm, hex digest)
    marker: str | None = None
    group: str = "runtime"
    location: Location | None = None
    license: LicenseFields = LicenseFields()
    requires: tuple[str, ...] = ()  # Requires-Dist, verbatim
    installer: str | None = None

    @property
    def pinned(self) -> bool:
        return self.version is not None

    @property
    def label(self) -> str:
        if self.version is not None:
            return f"{self.name}=={self.version}"
        return f"{self.name} {self.specifier or '(unpinned)'}"


@dataclass(frozen=True, kw_only=True, slots=True)
class Target:
    """The interpreter and platform an environment is (or will be) installed for."""

    python: str | None = None
    platform: str | None = None


# Environment.kind of a check given model files alone: there is no file the environment was read from.
NO_ENVIRONMENT_KIND = "none"


@dataclass(frozen=True, kw_only=True, slots=True)
class Environment:
    source: str  # the path that was read (venv, site-packages, lockfiles joined by ", ")
    kind: str  # reader name: "venv", "site-packages", ...
    target: Target
    packages: tuple[Package, ...]
    digest: str = field(default="")
    notes: tuple[str, ...] = ()  # what a reader or the selection wants the report to say

    @staticmethod
    def create(*, source: str, kind: str, target: Target,
               packages: list[Package] | tuple[Package, ...], notes: tuple[str, ...] = ()) -> Environment:
        ordered = tuple(sorted(packages, key=lambda p: (p.ecosystem, p.name, p.version or "", p.marker or "")))
        return Environment(source=source, kind=kind, target=target, packages=ordered,
                           digest=environment_digest(ordered), notes=notes)


def environment_digest(packages: tuple[Package, ...]) -> str:
    """sha256 over sorted ``ecosystem:name==version`` lines plus the artifact hashes where known.

    It identifies *what* is installed, not where: paths, install times and interpreter
    locations stay out so that the same pins give the same digest on any machine."""
    lines = []
    for package in packages:
        pin = package.version if package.version is not None else f"({package.specifier or ''})"
        hashes = ",".join(f"{algo}:{value}" for algo, value in package.hashes)
        lines.append(f"{package.ecosystem}:{package.name}=={pin} {hashes}".rstrip())
    lines.sort()
    return "sha256:" + hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


@dataclass(frozen=True, kw_only=True, slots=True)
class ReleaseFacts:
    """What the approved index says of one release (PEP 691 JSON, PEP 658 metadata)."""

    name: str  # normalised
    version: str
    upload_time: str | None = None  # RFC 3339, the earliest upload of the release's files
    yanked: str | None = None  # None: not yanked; else the reason ("" when none was given)
    hashes: tuple[tuple[str, str], ...] = ()  # every file hash the index serves for the release
    license: LicenseFields | None = None  # from the wheel's METADATA, when fetched


@dataclass(frozen=True, kw_only=True, slots=True)
class RegistryFacts:
    """The index's answers for an environment, fetched (or taken from the cache) at the edge."""

    url: str
    fetched_at: str  # RFC 3339
    from_cache: bool
    releases: tuple[ReleaseFacts, ...] = ()
    missing: tuple[tuple[str, str], ...] = ()  # (name, version) the index does not serve


@dataclass(frozen=True, kw_only=True, slots=True)
class ModifiedFile:
    """An installed file that no longer matches its distribution's RECORD."""

    package: str
    path: str
    problem: str  # "hash mismatch", "size mismatch", "missing"


class Level(enum.StrEnum):
    """Severity levels, ordered by :data:`LEVEL_RANK`. ``malicious`` outranks everything."""

    MALICIOUS = "malicious"
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    UNKNOWN = "unknown"


LEVEL_RANK: dict[Level, int] = {
    Level.UNKNOWN: 0,
    Level.LOW: 1,
    Level.MEDIUM: 2,
    Level.HIGH: 3,
    Level.CRITICAL: 4,
    Level.MALICIOUS: 5,
}


@dataclass(frozen=True, kw_only=True, slots=True)
class Severity:
    level: Level
    score: float | None = None
    vector: str | None = None  # the CVSS vector the score came from
    origin: str | None = None  # "CVSS_V3", "database_specific", ...


UNKNOWN_SEVERITY = Severity(level=Level.UNKNOWN)


@dataclass(frozen=True, kw_only=True, slots=True)
class Advisory:
    id: str
    aliases: tuple[str, ...] = ()  # sorted; never contains ``id``
    summary: str = ""
    severity: Severity = UNKNOWN_SEVERITY
    fixed: tuple[str, ...] = ()  # fix versions across every affected entry and range, PEP 440-sorted
    malicious: bool = False
    withdrawn: str | None = None
    modified: str | None = None
    published: str | None = None
    url: str | None = None

    @property
    def ids(self) -> tuple[str, ...]:
        return (self.id, *self.aliases)


@dataclass(frozen=True, kw_only=True, slots=True)
class Match:
    """An advisory that applies to a package. ``uncertain`` says why the match is not exact
    (an unparsable version on either side): the gate then assumes affected and says so."""

    advisory: Advisory
    package: Package
    uncertain: str | None = None


class Status(enum.StrEnum):
    BLOCKING = "blocking"
    WAIVED = "waived"
    WARNING = "warning"


@dataclass(frozen=True, kw_only=True, slots=True)
class Waiver:
    id: str
    reason: str
    owner: str
    expires: dt.date
    package: str | None = None  # normalised name scope


@dataclass(frozen=True, kw_only=True, slots=True)
class Finding:
    advisory: Advisory
    package: Package
    status: Status
    waiver: Waiver | None = None
    uncertain: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Violation:
    rule: str  # "packages.deny", "vulnerabilities.waivers", ...
    detail: str
    status: Status
    package: Package | None = None
    file: str | None = None  # the file judged when it is not a package's (a model file)


# Model file formats the gate identifies from bytes; "unknown" is everything else (never allowed by a list).
MODEL_FORMATS: tuple[str, ...] = ("safetensors", "onnx", "gguf", "hdf5", "keras", "torch-zip", "torchscript",
                                  "torch-legacy", "pickle", "joblib", "numpy", "numpy-npz", "zip")
UNKNOWN_FORMAT = "unknown"


class Safety(enum.StrEnum):
    """How dangerous a global that a pickle imports is. Ordered by :data:`SAFETY_RANK`."""

    SAFE = "safe"
    SUSPICIOUS = "suspicious"
    DANGEROUS = "dangerous"


SAFETY_RANK: dict[Safety, int] = {Safety.SAFE: 0, Safety.SUSPICIOUS: 1, Safety.DANGEROUS: 2}


@dataclass(frozen=True, kw_only=True, slots=True)
class PickleImport:
    """A global a pickle stream would import when loaded (``GLOBAL``, ``STACK_GLOBAL``, ``INST``)."""

    module: str
    name: str
    safety: Safety
    stream: str  # which pickle: "" for the file itself, "archive/data.pkl", "pickle 2", ...

    @property
    def qualified(self) -> str:
        return f"{self.module}.{self.name}"


@dataclass(frozen=True, kw_only=True, slots=True)
class ModelCard:
    """What a Hugging Face ``config.json`` / ``README.md`` beside a model file says of it."""

    architecture: str | None = None  # config.json architectures[0]
    model_type: str | None = None  # config.json model_type
    task: str | None = None  # README front matter pipeline_tag
    license: str | None = None  # README front matter license, verbatim
    sources: tuple[str, ...] = ()  # the files it was read from


@dataclass(frozen=True, kw_only=True, slots=True)
class ModelFile:
    """One model file as inventoried and scanned, never loaded."""

    path: str  # as shown: the path given, joined with the part below it
    real_path: str  # resolved absolute path: what a manifest entry is compared with
    size: int
    sha256: str  # hex
    format: str  # identified from the bytes: safetensors, onnx, torch-zip, pickle, ..., unknown
    imports: tuple[PickleImport, ...] = ()  # sorted
    problems: tuple[str, ...] = ()  # what makes the file unsafe or unjudgeable (unsafe archive, bad header)
    card: ModelCard | None = None

    @property
    def verdict(self) -> str:
        """``dangerous`` (a dangerous import or a problem), ``suspicious``, else ``safe``."""
        if self.problems or any(i.safety is Safety.DANGEROUS for i in self.imports):
            return Safety.DANGEROUS.value
        if any(i.safety is Safety.SUSPICIOUS for i in self.imports):
            return Safety.SUSPICIOUS.value
        return Safety.SAFE.value


class Verdict(enum.StrEnum):
    PASS = "pass"
    FAIL = "fail"


@dataclass(frozen=True, kw_only=True, slots=True)
class PolicyInfo:
    path: str
    digest: str
    stage: str | None
    effective: dict[str, Any]  # the merged policy, as plain data


@dataclass(frozen=True, kw_only=True, slots=True)
class DatabaseInfo:
    source: str
    digest: str
    records: int
    newest_modified: str | None
    imported_at: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Decision:
    verdict: Verdict
    environment: Environment
    policy: PolicyInfo
    database: DatabaseInfo | None  # None when the policy checks no vulnerabilities
    findings: tuple[Finding, ...]
    violations: tuple[Violation, ...]
    checked_at: dt.datetime
    notes: tuple[str, ...] = ()  # facts the reader should know that are not rule outcomes
    models: tuple[ModelFile, ...] = ()  # model files inventoried (--models, policy models.paths), by path

    @property
    def items(self) -> tuple[Finding | Violation, ...]:
        return (*self.findings, *self.violations)

    @property
    def blocking(self) -> tuple[Finding | Violation, ...]:
        return tuple(x for x in self.items if x.status is Status.BLOCKING)
