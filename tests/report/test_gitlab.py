from __future__ import annotations

import copy
import json
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gate.report.gitlab import gitlab_document, identifier, render_gitlab
from gate.report.stored import read_result
from tests.ci.hostile import make_hostile
from tests.conftest import REPO, Run
from tests.report.helpers import (
    EXAMPLE_NOW,
    GITLAB_SCHEMA,
    LXMERT,
    VULNERABILITIES_POLICY,
    assert_valid,
    check_example,
    in_repository,
    load,
)

REPORT = "gl-dependency-scanning-report.json"


@pytest.fixture
def example_out(gate: Callable[..., Run], example_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    in_repository(monkeypatch)
    check_example(gate, tmp_path / "out", example_db)
    return tmp_path / "out"


def by_id(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {vulnerability["identifiers"][0]["value"]: vulnerability for vulnerability in report["vulnerabilities"]}


def test_example_report_validates_against_the_15_x_schema(example_out: Path) -> None:
    report = load(example_out / REPORT)
    assert_valid(GITLAB_SCHEMA, report)
    assert report["version"] == "15.1.5"
    assert "dependency_files" not in report  # removed from the schema in 15.1.0: GitLab reads the CycloneDX SBOM
    scan = report["scan"]
    assert scan["type"] == "dependency_scanning" and scan["status"] == "success"
    assert scan["start_time"] == scan["end_time"] == "2026-11-26T00:00:00"
    assert scan["analyzer"]["id"] == "promotion-gate"
    assert scan["messages"] == [
        {"level": "info", "value": "Promotion Gate decision: fail (production); 15 blocking, 1 waived, 2 warnings"},
        {"level": "warn", "value": "6 policy violation(s), 4 blocking, are not vulnerabilities and are not listed here "
                                   "(rules: consistency, licenses.unknown, sources.indexes, sources.require_hashes): "
                                   "see report.md in the job's artifacts"},
    ]
    assert len(scan["primary_identifiers"]) == 12


def test_every_finding_is_a_vulnerability_at_its_dependency(example_out: Path) -> None:
    report = load(example_out / REPORT)
    result = load(example_out / "result.json")
    assert len(report["vulnerabilities"]) == len(result["findings"]) == 12
    vulnerabilities = by_id(report)
    cookie = vulnerabilities["GHSA-v845-jxx5-vc9f"]
    assert cookie["severity"] == "High"
    assert cookie["location"] == {
        "file": "tests/assets/venvs/old-ml/lib/python3.11/site-packages/urllib3-1.24.1.dist-info/METADATA",
        "dependency": {"package": {"name": "urllib3"}, "version": "1.24.1"}}
    assert cookie["identifiers"] == [
        {"type": "ghsa", "name": "GHSA-v845-jxx5-vc9f", "value": "GHSA-v845-jxx5-vc9f",
         "url": "https://github.com/advisories/GHSA-v845-jxx5-vc9f"},
        {"type": "cve", "name": "CVE-2023-43804", "value": "CVE-2023-43804",
         "url": "https://www.cve.org/CVERecord?id=CVE-2023-43804"}]
    assert cookie["cvss_vectors"] == [{"vendor": "unknown", "vector": "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:N"}]
    assert cookie["solution"] == "Upgrade urllib3 to 1.26.17 or later."
    assert cookie["details"]["fixed_in"]["items"] == [{"type": "text", "value": "1.26.17"},
                                                      {"type": "text", "value": "2.0.6"}]
    # a CVSS v4 vector has no place in the 15.x schema
    assert "cvss_vectors" not in vulnerabilities["GHSA-cpwx-vrp4-4pq7"]
    assert vulnerabilities["GHSA-6757-jp84-gxfx"]["severity"] == "Critical"
    waived = vulnerabilities["GHSA-9wx4-h78v-vm56"]
    assert waived["details"]["gate_status"]["value"] == "waived"
    assert waived["details"]["waiver"]["items"]["reason"]["value"] == \
        "no Session is reused after a verify=False request in this service"


def test_ids_are_stable_uuids(example_out: Path) -> None:
    report = load(example_out / REPORT)
    ids = [vulnerability["id"] for vulnerability in report["vulnerabilities"]]
    assert len(set(ids)) == len(ids)
    assert all(uuid.UUID(value).version == 5 for value in ids)
    again = gitlab_document(read_result(example_out / "result.json"), root=str(REPO), base=str(REPO))
    assert [vulnerability["id"] for vulnerability in again["vulnerabilities"]] == ids
    assert render_gitlab(read_result(example_out / "result.json"), root=str(REPO), base=str(REPO)) == \
        (example_out / REPORT).read_text(encoding="utf-8")


def test_real_lockfile_report_validates_and_points_at_the_lockfile(gate: Callable[..., Run], snapshot_db: Path,
                                                                   tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    if not LXMERT.is_file():
        pytest.skip("../shared/corpus is absent")
    checkout = tmp_path / "repo"
    checkout.mkdir()
    shutil.copyfile(LXMERT, checkout / "requirements.txt")
    monkeypatch.chdir(checkout)
    monkeypatch.setenv("CI_PROJECT_DIR", str(checkout))
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)
    run = gate("check", "--lockfile", checkout / "requirements.txt", "--policy", VULNERABILITIES_POLICY, "--db",
               snapshot_db, "--now", "2026-07-24T00:00:00Z", "--format", "gitlab")
    assert run.code == 1
    report = json.loads(run.out)
    assert_valid(GITLAB_SCHEMA, report)
    assert len(report["vulnerabilities"]) == 65
    assert {vulnerability["location"]["file"] for vulnerability in report["vulnerabilities"]} == {"requirements.txt"}
    with_vectors = [vulnerability for vulnerability in report["vulnerabilities"] if "cvss_vectors" in vulnerability]
    assert with_vectors and all(v["cvss_vectors"][0]["vector"].startswith(("CVSS:3.", "AV:")) for v in with_vectors)


def test_fields_with_schema_patterns_never_take_hostile_values(example_out: Path) -> None:
    document = read_result(example_out / "result.json")
    hostile = copy.deepcopy(document)
    finding = hostile["findings"][0]
    finding["vector"] = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/<x>"
    finding["aliases"] = ["", "x](javascript:alert(1))", "CVE-2020-1"]
    finding["id"] = "GHSA-x <b>"
    report = gitlab_document(hostile)
    assert_valid(GITLAB_SCHEMA, report, main=False)
    (vulnerability,) = [v for v in report["vulnerabilities"] if v["identifiers"][0]["value"] == "GHSA-x <b>"]
    assert "cvss_vectors" not in vulnerability
    assert vulnerability["identifiers"] == [
        {"type": "ghsa", "name": "GHSA-x <b>", "value": "GHSA-x <b>"},  # no link for an ID with odd characters
        {"type": "osv", "name": "x](javascript:alert(1))", "value": "x](javascript:alert(1))"},
        {"type": "cve", "name": "CVE-2020-1", "value": "CVE-2020-1", "url": "https://www.cve.org/CVERecord?id=CVE-2020-1"},
    ]
    assert identifier("PYSEC-2024-1")["url"] == "https://osv.dev/vulnerability/PYSEC-2024-1"


def test_hostile_text_is_escaped_in_the_markdown_fields(gate: Callable[..., Run], tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    in_repository(monkeypatch)
    hostile = make_hostile(tmp_path)
    db = tmp_path / "db.sqlite3"
    assert gate("db", "import", hostile.advisories, "--db", db).code == 0
    run = gate("check", "--env", hostile.env, "--policy", hostile.policy, "--db", db, "--out", tmp_path / "out",
               "--now", EXAMPLE_NOW)
    assert run.code == 1, run.err
    report = load(tmp_path / "out" / REPORT)
    assert_valid(GITLAB_SCHEMA, report, main=False)
    (vulnerability,) = report["vulnerabilities"]
    for field in ("description", "solution"):
        for unsafe in ("<script>", "@org/team", "| a | b |", "\n::", "\r"):
            assert unsafe not in vulnerability[field], (field, unsafe)
    assert "\n" not in vulnerability["name"] and len(vulnerability["name"]) <= 255
    assert vulnerability["location"]["dependency"]["package"]["name"].startswith("evil::set-output")  # data


def test_a_passing_check_gives_a_valid_empty_report(gate: Callable[..., Run], example_db: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    in_repository(monkeypatch)
    run = gate("check", "--env", "tests/assets/venvs/current", "--policy", "tests/assets/example/policy.yml", "--db",
               example_db, "--now", EXAMPLE_NOW, "--format", "gitlab")
    assert run.code == 0
    report = json.loads(run.out)
    assert_valid(GITLAB_SCHEMA, report)
    assert report["vulnerabilities"] == [] and report["scan"]["primary_identifiers"] == []
    assert report["scan"]["messages"][0]["value"].startswith("Promotion Gate decision: pass (production)")
    assert report["scan"]["messages"][1]["level"] == "info"  # warnings only: nothing blocks
