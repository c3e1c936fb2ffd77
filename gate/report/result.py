"""``result.json``: the public, versioned, machine-readable verdict.

Its shape is documented in ``docs/result-json.md``; change it only with a new
``schema_version``. Everything here is plain data derived from the Decision alone."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from packaging.version import InvalidVersion, Version

import gate
from gate.clock import format_instant
from gate.model import LEVEL_RANK, Decision, Finding, ModelFile, Package, Status, Violation

T = TypeVar("T", Finding, Violation)

SCHEMA_VERSION = 1


def fix_hint(finding: Finding) -> str | None:
    """The lowest fixed version above the installed one: the smallest upgrade that helps."""
    version = finding.package.version
    if version is None:
        return None
    try:
        current = Version(version)
    except InvalidVersion:
        return None
    candidates = []
    for text in finding.advisory.fixed:
        try:
            fixed = Version(text)
        except InvalidVersion:
            continue
        if fixed > current:
            candidates.append((fixed, text))
    return min(candidates)[1] if candidates else None


def manifest_entry(package: Package) -> dict[str, Any]:
    """One package as judged: enough to use this result as the baseline of a later check."""
    return {
        "name": package.name,
        "version": package.version,
        "specifier": package.specifier,
        "ecosystem": package.ecosystem,
        "pypi_name": package.pypi_name,
        "source": {"kind": package.source.kind.value, "url": package.source.url, "commit": package.source.commit},
        "hashes": [f"{algorithm}:{value}" for algorithm, value in package.hashes],
        "marker": package.marker,
        "group": package.group,
    }


def finding_document(finding: Finding) -> dict[str, Any]:
    advisory = finding.advisory
    waiver = finding.waiver
    return {
        "id": advisory.id,
        "aliases": list(advisory.aliases),
        "package": finding.package.name,
        "version": finding.package.version,
        "location": None if finding.package.location is None else str(finding.package.location),
        "severity": advisory.severity.level.value,
        "score": advisory.severity.score,
        "vector": advisory.severity.vector,
        "summary": advisory.summary,
        "url": advisory.url,
        "fixed_in": list(advisory.fixed),
        "fix": fix_hint(finding),
        "status": finding.status.value,
        "uncertain": finding.uncertain,
        "waiver": None if waiver is None else {
            "id": waiver.id, "package": waiver.package, "reason": waiver.reason,
            "owner": waiver.owner, "expires": waiver.expires.isoformat(),
        },
    }


def violation_document(violation: Violation) -> dict[str, Any]:
    return {
        "rule": violation.rule,
        "package": None if violation.package is None else violation.package.name,
        "version": None if violation.package is None else violation.package.version,
        "location": violation.file if violation.package is None
        else None if violation.package.location is None else str(violation.package.location),
        "detail": violation.detail,
        "status": violation.status.value,
    }


def model_document(model: ModelFile) -> dict[str, Any]:
    """One model file as inventoried and scanned."""
    card = model.card
    return {
        "path": model.path,
        "size": model.size,
        "sha256": model.sha256 or None,
        "format": model.format,
        "verdict": model.verdict,
        "imports": [{"module": i.module, "name": i.name, "safety": i.safety.value, "stream": i.stream}
                    for i in model.imports],
        "problems": list(model.problems),
        "card": None if card is None else {
            "architecture": card.architecture, "model_type": card.model_type, "task": card.task,
            "license": card.license, "sources": list(card.sources),
        },
    }


def by_severity(items: Iterable[T]) -> list[T]:
    """Most severe first, then by package and ID: the order a reviewer reads in."""

    def key(item: Finding | Violation) -> tuple[int, str, str, str]:
        if isinstance(item, Finding):
            return (-LEVEL_RANK[item.advisory.severity.level], item.package.name, item.package.version or "",
                    item.advisory.id)
        package = item.package
        return (1, package.name if package else "", package.version or "" if package else "", item.detail)

    return sorted(items, key=key)


def counts(decision: Decision) -> dict[str, int]:
    items = decision.items
    return {
        "blocking": sum(1 for x in items if x.status is Status.BLOCKING),
        "waived": sum(1 for x in items if x.status is Status.WAIVED),
        "warnings": sum(1 for x in items if x.status is Status.WARNING),
        "findings": len(decision.findings),
        "violations": len(decision.violations),
    }


def result_document(decision: Decision) -> dict[str, Any]:
    environment = decision.environment
    database = decision.database
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "promotion-gate", "version": gate.__version__},
        "decision": decision.verdict.value,
        "checked_at": format_instant(decision.checked_at),
        "stage": decision.policy.stage,
        "environment": {
            "source": environment.source,
            "kind": environment.kind,
            "digest": environment.digest,
            "packages": len(environment.packages),
            "target": {"python": environment.target.python, "platform": environment.target.platform},
            "manifest": [manifest_entry(package) for package in environment.packages],
        },
        "policy": {"path": decision.policy.path, "digest": decision.policy.digest, "stage": decision.policy.stage},
        "advisory_db": None if database is None else {
            "source": database.source,
            "digest": database.digest,
            "records": database.records,
            "newest_modified": database.newest_modified,
            "imported_at": database.imported_at,
        },
        "summary": counts(decision),
        "findings": [finding_document(f) for f in decision.findings],
        "violations": [violation_document(v) for v in decision.violations],
        "models": [model_document(model) for model in decision.models],
        "notes": list(decision.notes),
    }
