"""The severity of an OSV record: a level the policy can compare, and the score and vector
it rests on, so that a report can show why.

Every CVSS vector in the record (top-level ``severity`` and each ``affected[].severity``) is
scored with the ``cvss`` library and the highest score wins: a record that is critical under
one scoring is not made harmless by a milder one. Without a usable vector, GitHub's
``database_specific.severity`` word is used; without that, the level is unknown, which the
policy treats on its own terms (``unknown_severity``).

A score of 0.0 (CVSS "None") is mapped to :attr:`Level.LOW`, keeping the score 0.0: the gate has
no level below low, and an advisory that a database chose to publish should stay visible
under ``block_at: low`` rather than fall into ``unknown``, which says "not assessed".
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from cvss import CVSS2, CVSS3, CVSS4, CVSSError

from gate.model import UNKNOWN_SEVERITY, Level, Severity

# Ties between equal scores go to the newer CVSS version.
_CVSS_KINDS = ("CVSS_V2", "CVSS_V3", "CVSS_V4")

_DATABASE_LEVELS = {
    "CRITICAL": Level.CRITICAL,
    "HIGH": Level.HIGH,
    "MODERATE": Level.MEDIUM,  # GitHub's word for medium
    "MEDIUM": Level.MEDIUM,
    "LOW": Level.LOW,
}


def level_for_score(score: float) -> Level:
    """The CVSS qualitative rating, with 0.0 ("None") folded into low (see the module note)."""
    if score >= 9.0:
        return Level.CRITICAL
    if score >= 7.0:
        return Level.HIGH
    if score >= 4.0:
        return Level.MEDIUM
    return Level.LOW


def cvss_score(kind: str, vector: str) -> float | None:
    """The score of one vector (base score for v2 and v3; v4's single score), or ``None`` when
    the vector is malformed or not of ``kind``: one bad vector must not sink an import."""
    try:
        if kind == "CVSS_V4":
            return float(CVSS4(vector).base_score)
        if kind == "CVSS_V3":
            return float(CVSS3(vector).scores()[0])
        if kind == "CVSS_V2":
            return float(CVSS2(vector).scores()[0])
    except CVSSError:
        return None
    return None


def record_severity(record: Mapping[str, Any], *, malicious: bool = False) -> Severity:
    """The severity of a record; ``malicious`` records rank above everything."""
    scored = [(score, _CVSS_KINDS.index(kind), kind, vector)
              for kind, vector in _vectors(record)
              if (score := cvss_score(kind, vector)) is not None]
    if scored:
        score, _, kind, vector = max(scored)
        severity = Severity(level=level_for_score(score), score=score, vector=vector, origin=kind)
    else:
        severity = _database_severity(record)
    if malicious:
        return Severity(level=Level.MALICIOUS, score=severity.score, vector=severity.vector, origin="malicious")
    return severity


def _vectors(record: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    lists = [record.get("severity")]
    affected = record.get("affected")
    if isinstance(affected, list):
        lists.extend(entry.get("severity") for entry in affected if isinstance(entry, Mapping))
    for items in lists:
        if not isinstance(items, list):
            continue
        for item in items:
            if isinstance(item, Mapping) and item.get("type") in _CVSS_KINDS and isinstance(item.get("score"), str):
                yield item["type"], item["score"].strip()


def _database_severity(record: Mapping[str, Any]) -> Severity:
    specific = record.get("database_specific")
    word = specific.get("severity") if isinstance(specific, Mapping) else None
    level = _DATABASE_LEVELS.get(word.strip().upper()) if isinstance(word, str) else None
    if level is None:
        return UNKNOWN_SEVERITY
    return Severity(level=level, origin="database_specific")
