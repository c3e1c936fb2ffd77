from __future__ import annotations

import json
from typing import Any

import pytest

from gate.advisories import cvss_score, level_for_score, parse_record, record_severity
from gate.model import Level, Severity
from tests.advisories.helpers import JSON_RECORDS


def severity_of(name: str) -> Severity:
    raw: dict[str, Any] = json.loads((JSON_RECORDS / f"{name}.json").read_text())
    return parse_record(raw, where=name).advisory.severity


def test_cvss_v3() -> None:
    assert severity_of("TEST-2026-0001") == Severity(
        level=Level.CRITICAL, score=9.8, vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", origin="CVSS_V3")


def test_cvss_v4() -> None:
    assert severity_of("TEST-2026-0002") == Severity(
        level=Level.MEDIUM, score=6.8, vector="CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N",
        origin="CVSS_V4")


def test_cvss_v2() -> None:
    assert severity_of("TEST-2026-0003") == Severity(
        level=Level.HIGH, score=7.5, vector="AV:N/AC:L/Au:N/C:P/I:P/A:P", origin="CVSS_V2")


def test_highest_score_wins() -> None:
    severity = severity_of("TEST-2026-0015")
    assert (severity.level, severity.score, severity.origin) == (Level.CRITICAL, 9.3, "CVSS_V4")


def test_vector_in_an_affected_entry_counts() -> None:
    assert severity_of("TEST-2026-0009") == Severity(
        level=Level.HIGH, score=7.5, vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", origin="CVSS_V3")


def test_malformed_vector_falls_back_to_github_word() -> None:
    assert severity_of("GHSA-tst4-ghsa-sev4") == Severity(level=Level.MEDIUM, origin="database_specific")


def test_unknown_without_vector_or_word() -> None:
    assert severity_of("TEST-2026-0005") == Severity(level=Level.UNKNOWN)


def test_only_malformed_vectors_is_unknown() -> None:
    record = {"id": "X", "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N"},
                                      {"type": "CVSS_V4", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"},
                                      {"type": "CVSS_V2", "score": 7}, "junk", {"type": "Ubuntu", "score": "high"}]}
    assert record_severity(record) == Severity(level=Level.UNKNOWN)


def test_score_zero_is_low_with_score_kept() -> None:
    severity = severity_of("TEST-2026-0011")
    assert (severity.level, severity.score) == (Level.LOW, 0.0)


def test_malicious_outranks_its_score() -> None:
    assert severity_of("MAL-2026-0001") == Severity(level=Level.MALICIOUS, origin="malicious")
    vector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    scored = record_severity({"severity": [{"type": "CVSS_V3", "score": vector}]}, malicious=True)
    assert (scored.level, scored.score) == (Level.MALICIOUS, 9.8)


@pytest.mark.parametrize(("word", "level"), [("CRITICAL", Level.CRITICAL), ("HIGH", Level.HIGH),
                                             ("MODERATE", Level.MEDIUM), ("low", Level.LOW), ("bad", Level.UNKNOWN)])
def test_github_words(word: str, level: Level) -> None:
    assert record_severity({"database_specific": {"severity": word}}).level is level


@pytest.mark.parametrize(("score", "level"), [(10.0, Level.CRITICAL), (9.0, Level.CRITICAL), (8.9, Level.HIGH),
                                              (7.0, Level.HIGH), (6.9, Level.MEDIUM), (4.0, Level.MEDIUM),
                                              (3.9, Level.LOW), (0.1, Level.LOW), (0.0, Level.LOW)])
def test_level_boundaries(score: float, level: Level) -> None:
    assert level_for_score(score) is level


def test_cvss_score_rejects_a_vector_of_the_wrong_kind() -> None:
    assert cvss_score("CVSS_V3", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N") is None
    assert cvss_score("CVSS_V9", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H") is None
