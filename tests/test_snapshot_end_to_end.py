"""The spine on real data: the old-ml virtualenv against the full PyPA advisory snapshot.

The oracle is independent of the matcher: the ``versions`` lists the records carry (every
released version the ranges cover, enumerated by OSV). The gate must report exactly the
records that list each installed version, merged by alias."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.utils import canonicalize_name

from tests.conftest import ASSETS, SNAPSHOT_YAML_ZIP, Run

OLD = ASSETS / "venvs" / "old-ml"
VULNERABILITIES = ASSETS / "policies" / "vulnerabilities.yml"  # production's vulnerability rules alone
NOW = "2026-07-24T00:00:00Z"


def oracle(installed: dict[str, str]) -> set[tuple[str, str]]:
    """(package, record id) for every non-withdrawn record whose versions list has the installed version."""
    expected: set[tuple[str, str]] = set()
    with zipfile.ZipFile(SNAPSHOT_YAML_ZIP) as archive:
        for name in archive.namelist():
            parts = name.split("/")
            if len(parts) < 3 or canonicalize_name(parts[-2]) not in installed or not name.endswith(".yaml"):
                continue
            record = yaml.load(archive.read(name), Loader=yaml.CSafeLoader)
            if record.get("withdrawn"):
                continue
            for affected in record.get("affected", []):
                package = canonicalize_name(affected["package"]["name"])
                if package in installed and installed[package] in affected.get("versions", []):
                    expected.add((package, record["id"]))
    return expected


@pytest.fixture(scope="module")
def old_result(snapshot_db: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from gate.cli import main

    out = tmp_path_factory.mktemp("out")
    with pytest.raises(SystemExit) as exited:
        main(["check", "--env", str(OLD), "--policy", str(VULNERABILITIES), "--db", str(snapshot_db), "--out", str(out),
              "--now", NOW])
    assert exited.value.code == 1
    result: dict[str, Any] = json.loads((out / "result.json").read_text())
    return result


def test_findings_are_exactly_the_records_listing_the_installed_versions(old_result: dict[str, Any]) -> None:
    from gate.sources import reader_for_environment

    environment = reader_for_environment(OLD).read(OLD, target=None)
    installed = {p.name: p.version for p in environment.packages if p.version is not None}
    expected = oracle(installed)
    got = set()
    for finding in old_result["findings"]:
        for identifier in (finding["id"], *finding["aliases"]):
            if identifier.startswith("PYSEC-"):
                got.add((finding["package"], identifier))
    assert got == expected
    assert len(expected) > 40  # requests, urllib3, jinja2, pyyaml, pillow, django, numpy all have many


def test_every_finding_blocks_in_production_and_carries_aliases(old_result: dict[str, Any]) -> None:
    assert old_result["decision"] == "fail"
    assert {f["status"] for f in old_result["findings"]} == {"blocking"}
    requests = {f["id"]: f for f in old_result["findings"] if f["package"] == "requests"}
    assert requests["PYSEC-2018-28"]["aliases"] == ["CVE-2018-18074", "GHSA-x84v-xcm2-53pg"]
    assert requests["PYSEC-2018-28"]["fix"] == "2.20.0"


def test_waiver_by_alias_on_real_data(snapshot_db: Path, tmp_path: Path, gate: Callable[..., Run]) -> None:
    policy = tmp_path / "p.yml"
    policy.write_text(f"extends: {VULNERABILITIES}\nadvisory_db: {{max_age_days: 3}}\nvulnerabilities:\n  waivers:\n"
                      "    - {id: GHSA-x84v-xcm2-53pg, package: requests, reason: r, owner: o, expires: 2027-01-31}\n")
    run = gate("check", "--env", OLD, "--policy", policy, "--db", snapshot_db, "--out", tmp_path / "out",
               "--now", NOW)
    assert run.code == 1
    result = json.loads((tmp_path / "out" / "result.json").read_text())
    waived = [(f["package"], f["id"]) for f in result["findings"] if f["status"] == "waived"]
    assert waived == [("requests", "PYSEC-2018-28")]
    assert "<details><summary>Waived (1)</summary>" in (tmp_path / "out" / "report.md").read_text()


def test_current_versions_pass_on_real_data(snapshot_db: Path, tmp_path: Path, gate: Callable[..., Run]) -> None:
    run = gate("check", "--env", ASSETS / "venvs" / "current", "--policy", str(VULNERABILITIES), "--db", snapshot_db,
               "--out", tmp_path / "out", "--now", NOW)
    result = json.loads((tmp_path / "out" / "result.json").read_text())
    assert result["findings"] == [], [(f["package"], f["version"], f["id"]) for f in result["findings"]]
    assert run.code == 0
