"""The CycloneDX SBOM: valid against the 1.6 schema, complete, reproducible byte for byte, and
exactly what cyclonedx-python-lib would write (the library is the oracle: see ``library_agrees``)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from gate.model import (
    Advisory,
    Decision,
    Environment,
    Finding,
    Level,
    LicenseFields,
    PolicyInfo,
    Severity,
    Source,
    SourceKind,
    Status,
    Target,
    Verdict,
)
from gate.policy.evaluate import evaluate
from gate.sbom import render_sbom
from tests.conftest import ASSETS, SHARED
from tests.cyclonedx_oracle import check, library_agrees
from tests.factories import NOW, database, package

OLD = ASSETS / "venvs" / "old-ml"
EXAMPLE_POLICY = ASSETS / "example" / "policy.yml"
PRIVATE_GPT = SHARED / "corpus" / "uv.lock" / "zylon-ai__private-gpt__uv.lock"
CLAY = SHARED / "corpus" / "conda-lock" / "Clay-foundation__model__conda-lock.yml"


def decide(environment: Environment, *, findings: tuple[Any, ...] = ()) -> Decision:
    return Decision(verdict=Verdict.PASS, environment=environment,
                    policy=PolicyInfo(path="policy.yml", digest="sha256:" + "1" * 64, stage="test", effective={}),
                    database=database(), findings=findings, violations=(), checked_at=NOW)


@pytest.fixture(scope="module")
def old_ml_decision(tmp_path_factory: pytest.TempPathFactory) -> Decision:
    """A real decision: the shipped old-ml venv, the example advisories, the example policy (one waiver)."""
    from gate.advisories import AdvisoryDatabase, import_database
    from gate.policy import load_policy
    from gate.sources import reader_for_environment

    path = tmp_path_factory.mktemp("sbom-db") / "advisories.sqlite3"
    import_database(ASSETS / "example" / "advisories", path, now=dt.datetime(2026, 11, 26, tzinfo=dt.UTC))
    policy = load_policy(EXAMPLE_POLICY)
    environment = reader_for_environment(OLD).read(OLD, target=policy.target)
    with AdvisoryDatabase.open(path) as db:
        info = db.info
        matches = db.matches(environment.packages)
    return evaluate(environment=environment, policy=policy, matches=matches, database=info, now=NOW)


@pytest.fixture(scope="module")
def old_ml_sbom(old_ml_decision: Decision) -> dict[str, Any]:
    return check(render_sbom(old_ml_decision))


def test_old_ml_is_valid_and_lists_every_package(old_ml_decision: Decision, old_ml_sbom: dict[str, Any]) -> None:
    assert old_ml_sbom["specVersion"] == "1.6"
    assert old_ml_sbom["bomFormat"] == "CycloneDX"
    names = sorted((c["name"], c["version"]) for c in old_ml_sbom["components"])
    assert names == sorted((p.name, p.version) for p in old_ml_decision.environment.packages)
    assert len(names) == 13


def test_metadata_root_tool_and_injected_timestamp(old_ml_decision: Decision, old_ml_sbom: dict[str, Any]) -> None:
    metadata = old_ml_sbom["metadata"]
    assert metadata["timestamp"] == "2026-11-26T12:00:00+00:00"
    assert metadata["tools"]["components"] == [
        {"bom-ref": "promotion-gate", "name": "promotion-gate", "type": "application", "version": "0.1.0"}]
    root = metadata["component"]
    assert root["bom-ref"] == "environment"
    assert root["type"] == "application"
    assert root["version"] == old_ml_decision.environment.digest
    properties = {p["name"]: p["value"] for p in metadata["properties"]}
    assert properties["gate:verdict"] == "fail"
    assert properties["gate:policy-digest"] == old_ml_decision.policy.digest


def test_components_carry_purl_licence_and_provenance(old_ml_sbom: dict[str, Any]) -> None:
    by_name = {c["name"]: c for c in old_ml_sbom["components"]}
    requests = by_name["requests"]
    assert requests["purl"] == "pkg:pypi/requests@2.19.1"
    assert requests["bom-ref"] == "pkg:pypi/requests@2.19.1"
    assert requests["licenses"] == [{"expression": "Apache-2.0"}]
    properties = {p["name"]: p["value"] for p in requests["properties"]}
    assert properties["gate:source-kind"] == "index"
    assert properties["gate:location"] == "lib/python3.11/site-packages/requests-2.19.1.dist-info/METADATA"
    chardet = {p["name"]: p["value"] for p in by_name["chardet"]["properties"]}
    assert "licenses" not in by_name["chardet"]
    assert chardet["gate:license-raw"] == "LGPL"


def test_dependency_graph_uses_stated_requirements(old_ml_sbom: dict[str, Any]) -> None:
    graph = {d["ref"]: d.get("dependsOn", []) for d in old_ml_sbom["dependencies"]}
    assert graph["pkg:pypi/requests@2.19.1"] == [
        "pkg:pypi/certifi@2018.4.16", "pkg:pypi/chardet@3.0.4", "pkg:pypi/idna@2.7", "pkg:pypi/urllib3@1.24.1"]
    assert "pkg:pypi/requests@2.19.1" in graph["environment"]
    assert "pkg:pypi/urllib3@1.24.1" not in graph["environment"]
    refs = {c["bom-ref"] for c in old_ml_sbom["components"]} | {"environment"}
    assert set(graph) == refs


def test_vulnerabilities_one_per_finding_with_waiver_analysis(old_ml_decision: Decision,
                                                                old_ml_sbom: dict[str, Any]) -> None:
    vulnerabilities = old_ml_sbom["vulnerabilities"]
    assert len(vulnerabilities) == len(old_ml_decision.findings) > 0
    waived = [f for f in old_ml_decision.findings if f.status is Status.WAIVED]
    assert len(waived) == 1
    entry = next(v for v in vulnerabilities if "analysis" in v)
    assert entry["id"] == waived[0].advisory.id
    assert entry["affects"] == [{"ref": "pkg:pypi/requests@2.19.1"}]
    assert entry["analysis"] == {
        "state": "exploitable",
        "response": ["will_not_fix"],
        "detail": "Waived by policy for requests (waiver CVE-2024-35195), owner platform-security@example.com, "
                  "expires 2099-12-31: no Session is reused after a verify=False request in this service",
    }
    assert {"id": "CVE-2024-35195", "source": {"name": "NVD", "url": "https://nvd.nist.gov/vuln/detail/CVE-2024-35195"}
            } in entry["references"]
    assert all("analysis" not in v for v in vulnerabilities if v is not entry)


def test_two_renders_are_byte_identical_and_serial_is_derived(old_ml_decision: Decision) -> None:
    first = render_sbom(old_ml_decision)
    assert render_sbom(old_ml_decision) == first
    serial = json.loads(first)["serialNumber"]
    assert serial.startswith("urn:uuid:") and serial != "urn:uuid:00000000-0000-0000-0000-000000000000"
    later = dataclasses.replace(old_ml_decision, checked_at=NOW + dt.timedelta(seconds=1))
    assert json.loads(render_sbom(later))["serialNumber"] != serial


def test_validator_is_not_imported_by_a_render(old_ml_decision: Decision) -> None:
    for name in [m for m in sys.modules if m.startswith(("cyclonedx.validation", "jsonschema"))]:
        del sys.modules[name]
    render_sbom(old_ml_decision)
    assert "cyclonedx.validation.json" not in sys.modules


def test_conda_purl_hashes_references_and_unpinned() -> None:
    conda = package("numpy", "1.26.4", ecosystem="conda",
                    source=Source(kind=SourceKind.CHANNEL, url="https://conda.anaconda.org/conda-forge"),
                    hashes=(("md5", "0" * 32), ("sha256", "A" * 64), ("sha256", "not-hex"), ("blake9", "00")),
                    license=LicenseFields(text="BSD-3-Clause"))
    vcs = package("tool", "0.1", source=Source(kind=SourceKind.VCS, url="https://git.example/tool.git",
                                               commit="a" * 40))
    loose = package("loose", None, specifier=">=1", source=Source(kind=SourceKind.INDEX,
                                                                  url="https://pypi.org/simple"))
    text = render_sbom(decide(Environment.create(source="env", kind="test", target=Target(),
                                                 packages=[conda, vcs, loose])))
    by_name = {c["name"]: c for c in check(text)["components"]}
    numpy = by_name["numpy"]
    assert numpy["purl"] == "pkg:conda/numpy@1.26.4?channel=https://conda.anaconda.org/conda-forge"
    assert numpy["hashes"] == [{"alg": "MD5", "content": "0" * 32}, {"alg": "SHA-256", "content": "a" * 64}]
    assert numpy["licenses"] == [{"expression": "BSD-3-Clause"}]
    assert by_name["tool"]["externalReferences"] == [
        {"comment": f"commit {'a' * 40}", "type": "vcs", "url": "https://git.example/tool.git"}]
    assert by_name["loose"]["version"] == ">=1"
    assert by_name["loose"]["purl"] == "pkg:pypi/loose"
    assert by_name["loose"]["externalReferences"] == [{"type": "distribution", "url": "https://pypi.org/simple"}]
    properties = {p["name"]: p["value"] for p in by_name["loose"]["properties"]}
    assert properties["gate:unpinned"] == "true"
    assert properties["gate:specifier"] == ">=1"


def test_ratings_carry_score_vector_and_method() -> None:
    pkg = package("pillow", "8.2.0")
    vector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    adv = Advisory(id="GHSA-aaaa-bbbb-cccc", aliases=("CVE-2021-1", "PYSEC-2021-1"), fixed=("2.0",),
                   severity=Severity(level=Level.CRITICAL, score=9.8, vector=vector, origin="CVSS_V3"))
    finding = Finding(advisory=adv, package=pkg, status=Status.BLOCKING)
    text = render_sbom(decide(Environment.create(source="env", kind="test", target=Target(), packages=[pkg]),
                              findings=(finding,)))
    (entry,) = check(text)["vulnerabilities"]
    # the library writes a CVSS v3 vector without its "CVSS:3.1/" prefix: the method names the version
    assert entry["ratings"] == [{"method": "CVSSv31", "score": 9.8, "severity": "critical",
                                 "vector": vector.removeprefix("CVSS:3.1/"),
                                 "source": {"name": "GHSA",
                                            "url": "https://github.com/advisories/GHSA-aaaa-bbbb-cccc"}}]
    assert [r["id"] for r in entry["references"]] == ["CVE-2021-1", "PYSEC-2021-1"]
    assert entry["recommendation"] == "Upgrade pillow to a fixed version: 2.0"


def test_hostile_strings_are_escaped_by_json() -> None:
    hostile = '"},{"injected": true, "x": "\u202e<script>\n'
    pkg = package("evil", "1.0", marker=hostile, license=LicenseFields(text=hostile * 50))
    text = render_sbom(decide(Environment.create(source=hostile, kind="test", target=Target(), packages=[pkg])))
    document = check(text)
    assert document["metadata"]["component"]["name"] == hostile
    properties = {p["name"]: p["value"] for p in document["components"][0]["properties"]}
    assert properties["gate:marker"] == hostile
    assert len(properties["gate:license-raw"]) <= 203
    assert "injected" not in document["components"][0]


def _lockfile_decision(path: Path) -> Decision:
    from gate.sources import read_lockfiles

    return decide(read_lockfiles([path]))


@pytest.mark.parametrize("path", [PRIVATE_GPT, CLAY], ids=["uv.lock private-gpt", "conda-lock Clay"])
def test_big_corpus_lockfile_lists_every_package(path: Path) -> None:
    if not path.is_file():
        pytest.skip("../shared/corpus is absent")
    decision = _lockfile_decision(path)
    assert len(decision.environment.packages) >= 200
    text = render_sbom(decision)
    document = check(text)
    assert len(document["components"]) == len(decision.environment.packages)
    assert len({c["bom-ref"] for c in document["components"]}) == len(decision.environment.packages)
    assert render_sbom(decision) == text
    if path == CLAY:
        conda = [c["purl"] for c in document["components"] if c["purl"].startswith("pkg:conda/")]
        assert conda and all("?channel=" in purl for purl in conda)


def test_urls_become_uris_or_stay_properties() -> None:
    """An index URL is hostile input: what xs:anyURI forbids is percent-encoded as CycloneDX tools do,
    what cannot be made a URI (a stray ``%``, two fragments, whitespace) is left out of the
    references and kept, verbatim, as the source-url property."""
    urls = {
        "brackets": ("https://idx.example/[simple]/{a}'<b>\"", "https://idx.example/%5Bsimple%5D/%7Ba%7D%27%3Cb%3E%22"),
        "encoded": ("https://idx.example/a%20b", "https://idx.example/a%20b"),
        "stray-percent": ("https://idx.example/100%", None),
        "two-fragments": ("https://idx.example/#a#b", None),
        "space": ("https://idx.example/a b", None),
        "newline": ("https://idx.example/a\nb", None),
        "relative": ("simple/", None),
    }
    packages = [package(name, "1.0", source=Source(kind=SourceKind.INDEX, url=url)) for name, (url, _) in urls.items()]
    document = check(render_sbom(decide(Environment.create(source="env", kind="test", target=Target(),
                                                           packages=packages))))
    for component in document["components"]:
        url, expected = urls[component["name"]]
        references = [reference["url"] for reference in component.get("externalReferences", [])]
        assert references == ([expected] if expected else []), component["name"]
        assert {"name": "gate:source-url", "value": url} in component["properties"]


def test_advisory_strings_that_are_no_uri_leave_out_the_link() -> None:
    pkg = package("pillow", "8.2.0")
    adv = Advisory(id="OSV 2021 %zz", aliases=("CVE-2021-1", "CVE-2021-1", "GHSA-x#y#z"), fixed=("2.0", "2.0"),
                   url="https://example.org/100%", severity=Severity(level=Level.HIGH, score=None))
    finding = Finding(advisory=adv, package=pkg, status=Status.BLOCKING)
    (entry,) = check(render_sbom(decide(Environment.create(source="env", kind="test", target=Target(),
                                                            packages=[pkg]), findings=(finding,))))["vulnerabilities"]
    assert entry["source"] == {"name": "OSV"}
    assert "advisories" not in entry
    assert entry["references"] == [
        {"id": "CVE-2021-1", "source": {"name": "NVD", "url": "https://nvd.nist.gov/vuln/detail/CVE-2021-1"}},
        {"id": "GHSA-x#y#z", "source": {"name": "GHSA"}}]
    assert [p for p in entry["properties"] if p["name"] == "gate:fixed"] == [{"name": "gate:fixed", "value": "2.0"}]
    assert entry["ratings"] == [{"method": "other", "severity": "high", "source": {"name": "OSV"}}]


@pytest.mark.parametrize(("vector", "method", "written"), [
    ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "CVSSv4",
     "AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"),
    ("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "CVSSv3", "AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
    ("AV:N/AC:L/Au:N/C:P/I:P/A:P", "CVSSv2", "AV:N/AC:L/Au:N/C:P/I:P/A:P"),
    ("CVSS:3.9/AV:N", "other", "CVSS:3.9/AV:N"),
])
def test_vector_methods(vector: str, method: str, written: str) -> None:
    pkg = package("pillow", "8.2.0")
    adv = Advisory(id="GHSA-aaaa-bbbb-cccc", severity=Severity(level=Level.HIGH, score=7.5, vector=vector))
    finding = Finding(advisory=adv, package=pkg, status=Status.BLOCKING)
    (entry,) = check(render_sbom(decide(Environment.create(source="env", kind="test", target=Target(),
                                                            packages=[pkg]), findings=(finding,))))["vulnerabilities"]
    (rating,) = entry["ratings"]
    assert (rating["method"], rating["vector"]) == (method, written)


def _corpus_lockfiles() -> list[Path]:
    corpus = SHARED / "corpus"
    return sorted(p for p in corpus.glob("*/*") if p.is_file()) if corpus.is_dir() else []


@pytest.mark.parametrize("path", _corpus_lockfiles(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_corpus_lockfile_with_its_real_findings(path: Path, snapshot_db: Path) -> None:
    """47 lockfiles of real ML projects against the real advisory snapshot: thousands of components and
    advisories with every CVSS form the data holds, each SBOM what the library would write. (The strict
    schema check is left to the tests above: on a 1,500-package BOM it takes half a minute.)"""
    from gate.advisories import AdvisoryDatabase
    from gate.errors import GateError
    from gate.policy import load_policy
    from gate.sources import read_lockfiles

    try:
        environment = read_lockfiles([path])
    except GateError as error:  # a corpus file the readers refuse, with a reason their own tests pin
        pytest.skip(str(error))
    with AdvisoryDatabase.open(snapshot_db) as db:
        info = db.info
        matches = db.matches(environment.packages)
    decision = evaluate(environment=environment, policy=load_policy(EXAMPLE_POLICY), matches=matches, database=info,
                        now=NOW)
    text = render_sbom(decision)
    library_agrees(text)
    document = json.loads(text)
    assert len(document["components"]) == len(environment.packages)
    assert len(document.get("vulnerabilities", [])) == len(decision.findings)


def test_a_requirement_that_names_no_project_has_no_purl() -> None:
    """``git+https://...`` alone in a requirements file: there is no project name to build a package URL
    from, so the component carries the URL as its name and reference, and no made-up purl."""
    url = "git+https://github.com/huggingface/accelerate.git@3c45b6f760ad8745be9ebc9bbb26f5b04dea4abe"
    nameless = dataclasses.replace(
        package(url, None, specifier="", source=Source(kind=SourceKind.VCS, url=url.partition("@")[0],
                                                       commit=url.partition("@")[2])), pypi_name=None)
    document = check(render_sbom(decide(Environment.create(source="env", kind="test", target=Target(),
                                                           packages=[nameless]))))
    (component,) = document["components"]
    assert "purl" not in component
    assert component["bom-ref"] == f"requirement:{url}"
    assert component["externalReferences"] == [{"comment": "commit 3c45b6f760ad8745be9ebc9bbb26f5b04dea4abe",
                                                "type": "vcs", "url": "git+https://github.com/huggingface/accelerate.git"}]


def test_the_gate_reads_its_own_sbom_back(old_ml_decision: Decision, tmp_path: Path) -> None:
    """An SBOM the gate wrote is an input it can check later (``gate check --lockfile sbom.cdx.json``,
    ``gate monitor``): every package comes back with its version, hashes and ecosystem."""
    from gate.sources.cyclonedx import CycloneDxReader

    path = tmp_path / "sbom.cdx.json"
    path.write_text(render_sbom(old_ml_decision), encoding="utf-8")
    environment = CycloneDxReader().read(path, target=None)

    def identity(packages: tuple[Any, ...]) -> list[tuple[str, str | None, str, tuple[tuple[str, str], ...]]]:
        return sorted((p.name, p.version, p.ecosystem, p.hashes) for p in packages)

    assert identity(environment.packages) == identity(old_ml_decision.environment.packages)


def test_names_no_purl_can_hold_get_none() -> None:
    """Found by benchmarks/fuzz_inputs.py: packageurl raised TypeError for a blank name or one of only
    slashes (a conda-lock entry ``name: ' '``) and ValueError for an empty one (exit 70, no SBOM)."""
    odd = [package(" ", "1.0"), package("/", "2.0"), package("", "3.0"),
           dataclasses.replace(package("\n", "4.0"), ecosystem="conda", pypi_name=None,
                               source=Source(kind=SourceKind.CHANNEL, url="conda-forge"))]
    document = check(render_sbom(decide(Environment.create(source="env", kind="test", target=Target(),
                                                           packages=odd))))
    assert sorted((c["name"], c["bom-ref"], "purl" in c) for c in document["components"]) == [
        ("", "requirement:", False), ("\n", "requirement:\n", False), (" ", "requirement: ", False),
        ("/", "requirement:/", False)]
