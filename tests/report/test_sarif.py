from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gate.report.sarif import render_sarif, sarif_document, sarif_text, security_severity
from gate.report.stored import read_result
from tests.ci.hostile import HOSTILE_NAME, make_hostile
from tests.conftest import REPO, Run
from tests.report.helpers import (
    EXAMPLE_NOW,
    LXMERT,
    SARIF_SCHEMA,
    VULNERABILITIES_POLICY,
    assert_valid,
    check_example,
    in_repository,
    load,
)

METADATA = "tests/assets/venvs/old-ml/lib/python3.11/site-packages/{}/METADATA"


@pytest.fixture
def example(gate: Callable[..., Run], example_db: Path, tmp_path: Path,
            monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    in_repository(monkeypatch)
    check_example(gate, tmp_path / "out", example_db)
    sarif: dict[str, Any] = load(tmp_path / "out" / "results.sarif")
    return sarif


def results_by_rule(sarif: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for result in sarif["runs"][0]["results"]:
        grouped.setdefault(result["ruleId"], []).append(result)
    return grouped


def uri_and_line(result: dict[str, Any]) -> tuple[str, int]:
    location = result["locations"][0]["physicalLocation"]
    return location["artifactLocation"]["uri"], location["region"]["startLine"]


def test_example_sarif_validates_against_the_published_schema(example: dict[str, Any]) -> None:
    assert_valid(SARIF_SCHEMA, example)
    assert example["version"] == "2.1.0"
    run = example["runs"][0]
    assert run["tool"]["driver"]["name"] == "Promotion Gate"
    assert run["properties"]["decision"] == "fail"


def test_one_rule_per_advisory_and_policy_rule_one_result_per_item(example: dict[str, Any]) -> None:
    run = example["runs"][0]
    rule_ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    assert len(rule_ids) == len(set(rule_ids))
    assert sorted(rule_id for rule_id in rule_ids if rule_id.startswith("policy/")) == [
        "policy/consistency", "policy/licenses.unknown", "policy/sources.indexes", "policy/sources.require_hashes"]
    assert len([rule_id for rule_id in rule_ids if rule_id.startswith("GHSA-")]) == 12
    assert len(run["results"]) == 12 + 6  # every finding (waived included) and every violation
    for result in run["results"]:
        assert rule_ids[result["ruleIndex"]] == result["ruleId"]
    assert len(results_by_rule(example)["policy/licenses.unknown"]) == 3


def test_findings_sit_at_the_distributions_metadata_with_level_by_status(example: dict[str, Any]) -> None:
    grouped = results_by_rule(example)
    (pyyaml,) = grouped["GHSA-6757-jp84-gxfx"]
    assert pyyaml["level"] == "error"
    assert uri_and_line(pyyaml) == (METADATA.format("PyYAML-5.3.dist-info"), 1)
    assert pyyaml["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
    assert pyyaml["message"]["text"] == ("pyyaml 5.3 is affected by GHSA-6757-jp84-gxfx (critical): PyYAML "
                                         "full_load can run arbitrary code through python/object/new. Upgrade to "
                                         "5.3.1 or later.")
    (waived,) = grouped["GHSA-9wx4-h78v-vm56"]
    assert waived["level"] == "note"
    assert waived["suppressions"] == [{
        "kind": "external", "status": "accepted",
        "justification": "no Session is reused after a verify=False request in this service "
                         "(owner platform-security@example.com, expires 2099-12-31)"}]
    assert waived["properties"]["waiver"]["id"] == "CVE-2024-35195"
    warnings = [result for result in example["runs"][0]["results"] if result["level"] == "warning"]
    # the installed-environment warnings concern no single package: they point at the policy
    assert sorted(result["ruleId"] for result in warnings) == ["policy/sources.indexes",
                                                               "policy/sources.require_hashes"]
    assert {uri_and_line(result) for result in warnings} == {("tests/assets/example/policy.yml", 1)}


def test_security_severity_follows_the_gates_level(example: dict[str, Any]) -> None:
    rules = {rule["id"]: rule for rule in example["runs"][0]["tool"]["driver"]["rules"]}
    assert rules["GHSA-6757-jp84-gxfx"]["properties"]["security-severity"] == "9.5"  # critical, no CVSS score
    assert rules["GHSA-v845-jxx5-vc9f"]["properties"]["security-severity"] == "8.1"  # high, CVSS 8.1
    assert rules["GHSA-cpwx-vrp4-4pq7"]["properties"]["security-severity"] == "5.4"
    assert rules["GHSA-cpwx-vrp4-4pq7"]["helpUri"] == "https://osv.dev/vulnerability/GHSA-cpwx-vrp4-4pq7"
    assert "security" in rules["GHSA-cpwx-vrp4-4pq7"]["properties"]["tags"]
    assert "security-severity" not in rules["policy/consistency"]["properties"]
    assert security_severity("critical", 8.8) == "9.5"  # a score outside the level's band is not used
    assert security_severity("malicious", None) == "10.0"
    assert security_severity("unknown", 5.0) is None


def test_fingerprints_are_distinct_and_ignore_lines_and_versions(example: dict[str, Any]) -> None:
    prints = [result["partialFingerprints"]["primaryLocationLineHash"] for result in example["runs"][0]["results"]]
    assert len(set(prints)) == len(prints)
    # the same advisory on the same package in the same file, moved and upgraded: the same alert
    document = {"checked_at": EXAMPLE_NOW, "decision": "fail", "environment": {"kind": "uv.lock", "source": "uv.lock"},
                "policy": {"path": "p.yml"}, "findings": [
                    {"id": "GHSA-1", "package": "a", "version": v, "location": f"uv.lock:{line}", "severity": "high",
                     "status": "blocking", "summary": ""} for v, line in (("1.0", 10), ("1.1", 99))]}
    first, second = sarif_document(document)["runs"][0]["results"]
    assert first["partialFingerprints"] == second["partialFingerprints"]
    assert uri_and_line(first) == ("uv.lock", 10) and uri_and_line(second) == ("uv.lock", 99)


def test_sarif_from_a_stored_result_is_the_file_check_wrote(gate: Callable[..., Run], example_db: Path,
                                                           tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    in_repository(monkeypatch)
    check_example(gate, tmp_path / "out", example_db)
    stored = read_result(tmp_path / "out" / "result.json")
    assert render_sarif(stored, root=str(REPO), base=str(REPO)) == \
        (tmp_path / "out" / "results.sarif").read_text(encoding="utf-8")


def test_results_sit_at_the_lockfile_lines_of_a_real_lockfile(gate: Callable[..., Run], snapshot_db: Path,
                                                             tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not LXMERT.is_file():
        pytest.skip("../shared/corpus is absent")
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)
    monkeypatch.delenv("CI_PROJECT_DIR", raising=False)
    checkout = tmp_path / "repo"
    (checkout / "research").mkdir(parents=True)
    lockfile = checkout / "research" / "requirements.txt"
    shutil.copyfile(LXMERT, lockfile)
    monkeypatch.chdir(checkout / "research")  # run from a sub-folder, with a relative path
    run = gate("check", "--lockfile", "requirements.txt", "--policy", VULNERABILITIES_POLICY, "--db", snapshot_db,
               "--out", tmp_path / "out", "--now", "2026-07-24T00:00:00Z", "--format", "sarif")
    assert run.code == 1
    sarif = json.loads(run.out)
    assert_valid(SARIF_SCHEMA, sarif)
    lines = lockfile.read_text(encoding="utf-8").splitlines()
    findings = [result for result in sarif["runs"][0]["results"] if not result["ruleId"].startswith("policy/")]
    assert len(findings) == 65
    for result in findings:
        uri, line = uri_and_line(result)
        assert uri == "requirements.txt"  # relative to where the check ran (the checkout is not known here)
        name = result["properties"]["package"]
        assert lines[line - 1].lower().replace("_", "-").startswith(f"{name}=="), (name, line)
    # with the checkout as the root (GITHUB_WORKSPACE), the same file is repository-relative
    monkeypatch.setenv("GITHUB_WORKSPACE", str(checkout))
    run = gate("check", "--lockfile", "requirements.txt", "--policy", VULNERABILITIES_POLICY, "--db", snapshot_db,
               "--now", "2026-07-24T00:00:00Z", "--format", "sarif")
    assert {uri_and_line(result)[0] for result in json.loads(run.out)["runs"][0]["results"]} == \
        {"research/requirements.txt"}


def test_paths_outside_the_checkout_stay_absolute_file_uris() -> None:
    document = {"checked_at": EXAMPLE_NOW, "decision": "fail",
                "environment": {"kind": "requirements", "source": "/elsewhere/my lock.txt"},
                "policy": {"path": "/ci/policy.yml"},
                "findings": [{"id": "GHSA-1", "package": "a", "version": "1", "location": "/elsewhere/my lock.txt:3",
                              "severity": "low", "status": "warning", "summary": ""}],
                "violations": [{"rule": "sources.require_hashes", "package": None, "version": None, "location": None,
                                "detail": "1 package(s) are not locked", "status": "blocking"}]}
    finding, violation = sarif_document(document, root="/work/repo")["runs"][0]["results"]
    assert finding["locations"][0]["physicalLocation"]["artifactLocation"] == {"uri": "file:///elsewhere/my%20lock.txt"}
    assert uri_and_line(finding)[1] == 3
    assert uri_and_line(violation) == ("file:///elsewhere/my%20lock.txt", 1)  # the one lockfile, as a whole


def test_hostile_text_is_data_only(gate: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    in_repository(monkeypatch)
    hostile = make_hostile(tmp_path)
    db = tmp_path / "db.sqlite3"
    assert gate("db", "import", hostile.advisories, "--db", db).code == 0
    run = gate("check", "--env", hostile.env, "--policy", hostile.policy, "--db", db, "--out", tmp_path / "out",
               "--now", EXAMPLE_NOW)
    assert run.code == 1, run.err
    sarif = load(tmp_path / "out" / "results.sarif")
    assert_valid(SARIF_SCHEMA, sarif, main=False)
    run_ = sarif["runs"][0]
    texts: list[str] = [result["message"]["text"] for result in run_["results"]]
    markdown: list[str] = []
    for rule in run_["tool"]["driver"]["rules"]:
        texts += [rule["shortDescription"]["text"], rule["fullDescription"]["text"], rule["help"]["text"]]
        markdown.append(rule["help"]["markdown"])
    assert any("set-output name=pwned" in text for text in texts)  # the text is there, as text
    for text in texts:
        assert "\n" not in text and "\r" not in text
        # every character that could open a link, HTML, a code span or a mention is escaped
        assert not re.search(r"(?<!\\)[<\[\]`@]", text), text
    for text in markdown:
        for unsafe in ("<script>", "@org/team", "[x]", "\n::", "\r", "| a | b |"):
            assert unsafe not in text, (unsafe, text)
    # the raw values are kept, as data, in the property bags
    assert {result["properties"]["package"] for result in run_["results"]} == {HOSTILE_NAME.lower()}


def test_sarif_text_escapes_links_html_code_and_mentions() -> None:
    assert sarif_text("see [x](https://e.example) <img src=x> `c` @team \\ a\nb") == \
        "see \\[x\\](https://e.example) \\<img src=x> \\`c\\` \\@team \\\\ a b"
    assert sarif_text("x" * 50, 10) == "xxxxxxxxx…"


def test_a_passing_check_gives_a_valid_log_of_warnings(gate: Callable[..., Run], example_db: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    in_repository(monkeypatch)
    run = gate("check", "--env", "tests/assets/venvs/current", "--policy", "tests/assets/example/policy.yml", "--db",
               example_db, "--now", EXAMPLE_NOW, "--format", "sarif")
    assert run.code == 0
    sarif = json.loads(run.out)
    assert_valid(SARIF_SCHEMA, sarif, main=False)
    assert {result["level"] for result in sarif["runs"][0]["results"]} == {"warning"}
    assert sarif["runs"][0]["properties"]["decision"] == "pass"
