from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from gate.advisories import canonical_json, normalise_timestamp, parse_record
from gate.advisories.osv import AffectedPackage
from gate.errors import AdvisoryDataError
from tests.advisories.helpers import JSON_RECORDS, YAML_CHECKOUT


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((JSON_RECORDS / f"{name}.json").read_text())
    return data


def test_advisory_fields() -> None:
    record = parse_record(load("TEST-2026-0001"), where="TEST-2026-0001.json")
    advisory = record.advisory
    assert advisory.id == "TEST-2026-0001"
    assert advisory.aliases == ("CVE-2026-0001", "GHSA-aaaa-bbbb-cccc")  # sorted, own id dropped
    assert advisory.summary == "Demo-Lib evaluates templates from untrusted input"
    assert advisory.fixed == ("1.2.0",)
    assert advisory.url == "https://example.invalid/advisories/TEST-2026-0001"  # ADVISORY before WEB
    assert advisory.modified == "2026-03-04T05:06:07Z"
    assert advisory.published == "2026-03-01T00:00:00.5Z"
    assert advisory.withdrawn is None
    assert not advisory.malicious
    assert record.affected == (
        AffectedPackage(name="demo-lib", ranges=((("introduced", "0"), ("fixed", "1.2.0")),),
                        versions=("1.0.0", "1.1.0")),
    )


def test_url_falls_back_to_web_then_none() -> None:
    assert parse_record(load("TEST-2026-0003"), where="x").advisory.url == "https://example.invalid/multirange/security"
    assert parse_record(load("TEST-2026-0002"), where="x").advisory.url is None  # a REPORT only


def test_summary_falls_back_to_first_line_of_details() -> None:
    assert parse_record(load("TEST-2026-0002"), where="x").advisory.summary == (
        "lastlib leaks file descriptors when a connection is reset.")


def test_long_summary_is_truncated() -> None:
    summary = parse_record(load("TEST-2026-0005"), where="x").advisory.summary
    assert len(summary) == 200
    assert summary.endswith("…")
    assert summary.startswith("unknownlib accepts an unbounded header list")


def test_events_keep_record_order_and_other_ecosystems_are_ignored() -> None:
    record = parse_record(load("TEST-2026-0008"), where="x")
    assert [entry.name for entry in record.affected] == ["splitlib", "splitlib", "otherlib"]
    assert parse_record(load("TEST-2026-0003"), where="x").affected[0].ranges[0][0] == ("introduced", "2.0.0a1")


def test_fixed_versions_across_entries_sorted_by_pep440() -> None:
    raw = load("TEST-2026-0003")
    assert parse_record(raw, where="x").advisory.fixed == ("1.0.5", "1.1.3", "2.0.1")
    raw["affected"].append({"package": {"ecosystem": "PyPI", "name": "multirange"},
                            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.10"},
                                                                        {"fixed": "2.6.0-NA"}, {"fixed": "1.1.3"}]},
                                       {"type": "GIT", "events": [{"fixed": "abc123"}]}]})
    assert parse_record(raw, where="x").advisory.fixed == ("1.0.5", "1.1.3", "1.10", "2.0.1", "2.6.0-NA")


def test_git_ranges_are_skipped_but_named() -> None:
    entry = parse_record(load("TEST-2026-0009"), where="x").affected[0]
    assert entry.ranges == ()
    assert entry.versions == ("0.9", "1.0")
    assert entry.skipped == ("GIT",)


def test_malicious_by_id_and_by_origins() -> None:
    assert parse_record(load("MAL-2026-0001"), where="x").advisory.malicious
    raw = load("MAL-2026-0001")
    raw["id"] = "OSV-2026-1"
    assert parse_record(raw, where="x").advisory.malicious  # database_specific origins
    del raw["database_specific"]
    assert not parse_record(raw, where="x").advisory.malicious


def test_withdrawn_is_kept_on_the_advisory() -> None:
    assert parse_record(load("TEST-2026-0007"), where="x").advisory.withdrawn == "2026-02-01T00:00:00Z"


@pytest.mark.parametrize(("value", "expected"), [
    ("2024-11-25T19:30:00Z", "2024-11-25T19:30:00Z"),
    ("2024-11-25 19:30:00+00:00", "2024-11-25T19:30:00Z"),  # as OSV's JSON export writes some
    ("2023-07-24T16:58:05.562874+02:00", "2023-07-24T14:58:05.562874Z"),
    ("2021-01-01T00:00:00.100Z", "2021-01-01T00:00:00.1Z"),
    (dt.datetime(2023, 7, 24, 14, 58, 5, 562874, tzinfo=dt.UTC), "2023-07-24T14:58:05.562874Z"),
    (dt.datetime(2023, 7, 24, 14, 58), "2023-07-24T14:58:00Z"),  # YAML without a zone: UTC
    (dt.date(2019, 9, 12), "2019-09-12T00:00:00Z"),
    ("yesterday", "yesterday"),  # kept as written: shown, never computed with
])
def test_normalise_timestamp(value: str | dt.date, expected: str) -> None:
    assert normalise_timestamp(value) == expected


def test_yaml_datetimes_are_normalised_back_to_rfc3339() -> None:
    """A plain safe loader turns the PyPA records' unquoted timestamps into datetimes."""
    path = YAML_CHECKOUT / "vulns" / "demo-lib" / "TEST-2026-0001.yaml"
    raw = yaml.safe_load(path.read_text())
    assert isinstance(raw["modified"], dt.datetime)
    advisory = parse_record(raw, where=path).advisory
    assert advisory.modified == "2026-03-04T05:06:07Z"
    assert advisory.published == "2026-03-01T00:00:00.5Z"
    assert canonical_json(raw, where=path) == canonical_json(load("TEST-2026-0001"), where="json")


def test_yaml_date_as_version_becomes_its_text() -> None:
    path = YAML_CHECKOUT / "vulns" / "datefixed" / "TEST-2026-0011.yaml"
    raw = yaml.safe_load(path.read_text())
    assert raw["affected"][0]["ranges"][0]["events"][1]["fixed"] == dt.date(2019, 9, 12)
    assert parse_record(raw, where=path).affected[0].ranges[0][1] == ("fixed", "2019-09-12")


def test_canonical_json_is_sorted_and_compact() -> None:
    text = canonical_json({"id": "X", "b": [1, {"d": 1, "c": "é"}], "modified": "2024-11-25 19:30:00+00:00"},
                          where="x")
    assert text == '{"b":[1,{"c":"\\u00e9","d":1}],"id":"X","modified":"2024-11-25T19:30:00Z"}'


def test_canonical_json_refuses_what_json_cannot_hold(tmp_path: Path) -> None:
    with pytest.raises(AdvisoryDataError, match="JSON cannot represent"):
        canonical_json({"id": "X", "database_specific": {"blob": b"\x00"}}, where="x.yaml")


@pytest.mark.parametrize(("raw", "message"), [
    (["not", "a", "mapping"], "x.yaml: record is not a mapping"),
    ({"summary": "no id"}, "x.yaml: record has no id"),
    ({"id": ""}, "x.yaml: record has no id"),
    ({"id": "X", "aliases": "CVE-1"}, "x.yaml: aliases: is not a list of strings"),
    ({"id": "X", "affected": {"package": {}}}, "x.yaml: affected: is not a list"),
    ({"id": "X", "affected": [{"ranges": []}]}, "x.yaml: affected[0]: has no package"),
    ({"id": "X", "affected": [{"package": {"ecosystem": "PyPI"}}]}, "x.yaml: affected[0].package: has no name"),
    ({"id": "X", "affected": [{"package": {"ecosystem": "PyPI", "name": "a"},
                               "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": 1.10}]}]}]},
     "x.yaml: affected[0].ranges[0].events[0].introduced: is not a version string"),
    ({"id": "X", "affected": [{"package": {"ecosystem": "PyPI", "name": "a"},
                               "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0", "fixed": "1"}]}]}]},
     "x.yaml: affected[0].ranges[0].events[0]: needs exactly one of introduced, fixed, last_affected, limit"),
    ({"id": "X", "affected": [{"package": {"ecosystem": "PyPI", "name": "a"}, "ranges": [{"events": []}]}]},
     "x.yaml: affected[0].ranges[0]: is not a range with a type"),
    ({"id": "X", "affected": [{"package": {"ecosystem": "PyPI", "name": "a"}, "versions": "1.0"}]},
     "x.yaml: affected[0].versions: is not a list"),
    ({"id": "X", "modified": ["2024"]}, "x.yaml: modified: is not a timestamp"),
])
def test_bad_records_name_where_and_what(raw: object, message: str) -> None:
    with pytest.raises(AdvisoryDataError) as raised:
        parse_record(raw, where="x.yaml")
    assert str(raised.value) == message


def test_lenient_on_what_is_only_shown() -> None:
    record = parse_record({"id": "X", "summary": 3, "details": None, "references": [1, {"type": "WEB"}],
                           "severity": "high", "affected": [{"package": {"ecosystem": "PyPI", "name": "A"},
                                                             "ranges": [{"type": "ECOSYSTEM",
                                                                         "events": [{"limit": "2"}]}],
                                                             "versions": [1]}]}, where="x")
    assert record.advisory.summary == ""
    assert record.advisory.url is None
    assert record.affected[0] == AffectedPackage(name="a", ranges=((),), versions=("1",))
