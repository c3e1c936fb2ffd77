from __future__ import annotations

from pathlib import Path

from gate.model import Decision, Package, Status, Verdict
from gate.policy import load_policy
from gate.policy.evaluate import evaluate
from tests.factories import NOW, database, environment, package

POLICY = """\
packages:
  deny:
    - {name: Torch, versions: "<2.6", reason: "CVE-2025-32434"}
    - {name: pickle5, reason: "unmaintained backport"}
"""


def violations(tmp_path: Path, *packages: Package) -> tuple[Decision, list[tuple[str | None, Status, str]]]:
    path = tmp_path / "p.yml"
    path.write_text(POLICY, encoding="utf-8")
    decision = evaluate(environment=environment(*packages), policy=load_policy(path), matches=[],
                        database=database(), now=NOW)
    return decision, [(v.package.name if v.package else None, v.status, v.detail) for v in decision.violations]


def test_denied_version_range(tmp_path: Path) -> None:
    decision, found = violations(tmp_path, package("torch", "2.5.1+cu121"), package("numpy", "2.0"))
    assert found == [("torch", Status.BLOCKING, "version 2.5.1+cu121 is denied (<2.6): CVE-2025-32434")]
    assert decision.verdict is Verdict.FAIL


def test_allowed_version_passes(tmp_path: Path) -> None:
    decision, found = violations(tmp_path, package("torch", "2.6.0"))
    assert found == []
    assert decision.verdict is Verdict.PASS


def test_prerelease_inside_denied_range(tmp_path: Path) -> None:
    _, found = violations(tmp_path, package("torch", "2.5.0rc1"))
    assert found == [("torch", Status.BLOCKING, "version 2.5.0rc1 is denied (<2.6): CVE-2025-32434")]


def test_specifiers_keep_pep440_meaning(tmp_path: Path) -> None:
    # PEP 440: "<2.6" excludes the pre-releases of 2.6 itself.
    _, found = violations(tmp_path, package("torch", "2.6.0rc1"))
    assert found == []


def test_denied_in_every_version(tmp_path: Path) -> None:
    _, found = violations(tmp_path, package("pickle5", "0.0.11"))
    assert found == [("pickle5", Status.BLOCKING, "denied in every version: unmaintained backport")]


def test_unparsable_version_fails_closed(tmp_path: Path) -> None:
    _, found = violations(tmp_path, package("torch", "2.5-custom build"))
    assert found == [("torch", Status.BLOCKING, "denied for <2.6, and version '2.5-custom build' is not PEP 440 so "
                                                "cannot be shown to be outside it: CVE-2025-32434")]


def test_unpinned_fails_closed(tmp_path: Path) -> None:
    _, found = violations(tmp_path, package("torch", None, specifier=">=2.0"))
    assert found == [("torch", Status.BLOCKING,
                      "denied for <2.6, and the version is not pinned (>=2.0): CVE-2025-32434")]
