from __future__ import annotations

from pathlib import Path

from gate.model import Decision, LicenseFields, Package, RegistryFacts, ReleaseFacts, Status, Verdict
from gate.policy import load_policy
from gate.policy.evaluate import evaluate
from tests.factories import NOW, database, environment, package

POLICY = """\
licenses:
  allow: [MIT, BSD-3-Clause, Apache-2.0, LGPL-2.1-or-later]
  deny_categories: [Copyleft]
  unknown: {unknown}
  overrides:
    - {{package: scipy, versions: ">=1.0", license: BSD-3-Clause, reason: "License field holds the whole text"}}
"""


def judged(tmp_path: Path, *packages: Package, unknown: str = "block",
           registry: RegistryFacts | None = None) -> tuple[Decision, list[tuple[str, str | None, Status, str]]]:
    path = tmp_path / "p.yml"
    path.write_text(POLICY.format(unknown=unknown), encoding="utf-8")
    decision = evaluate(environment=environment(*packages), policy=load_policy(path), matches=[],
                        database=database(), now=NOW, registry=registry)
    return decision, [(v.rule, v.package.name if v.package else None, v.status, v.detail) for v in decision.violations]


def licensed(name: str, *, expression: str | None = None, text: str | None = None,
             classifiers: tuple[str, ...] = ()) -> Package:
    return package(name, "1.0", license=LicenseFields(expression=expression, text=text, classifiers=classifiers))


def test_gpl_package_is_blocked_with_the_raw_metadata(tmp_path: Path) -> None:
    decision, found = judged(tmp_path, licensed("mysqlclient", text="GPL-2.0-or-later"))
    assert found == [("licenses", "mysqlclient", Status.BLOCKING,
                      "GPL-2.0-or-later: GPL-2.0-or-later is in the denied category Copyleft "
                      "(from license-field: 'GPL-2.0-or-later')")]
    assert decision.verdict is Verdict.FAIL


def test_or_passes_when_one_side_is_allowed(tmp_path: Path) -> None:
    decision, found = judged(tmp_path, licensed("dual", expression="LGPL-2.1-or-later OR MIT"))
    assert found == []
    assert decision.verdict is Verdict.PASS


def test_and_needs_both_sides(tmp_path: Path) -> None:
    _, found = judged(tmp_path, licensed("bundle", expression="MIT AND GPL-3.0-only"))
    assert [(rule, status) for rule, _, status, _ in found] == [("licenses", Status.BLOCKING)]
    assert "GPL-3.0-only is in the denied category Copyleft" in found[0][3]


def test_unknown_licence_follows_the_policy(tmp_path: Path) -> None:
    ambiguous = licensed("jinja2", classifiers=("License :: OSI Approved :: BSD License",))
    _, blocked = judged(tmp_path, ambiguous, unknown="block")
    assert [(rule, status) for rule, _, status, _ in blocked] == [("licenses.unknown", Status.BLOCKING)]
    assert blocked[0][3].startswith("licence unknown: ")
    assert blocked[0][3].endswith("add an override to the policy if you know it")
    _, warned = judged(tmp_path, ambiguous, unknown="warn")
    assert [status for _, _, status, _ in warned] == [Status.WARNING]
    _, allowed = judged(tmp_path, ambiguous, unknown="allow")
    assert allowed == []


def test_override_replaces_wrong_metadata(tmp_path: Path) -> None:
    scipy = package("scipy", "1.17.1", license=LicenseFields(text="Copyright (c) 2001-2002 Enthought...\n" * 30))
    _, found = judged(tmp_path, scipy)
    assert found == []


def test_override_respects_its_version_range(tmp_path: Path) -> None:
    old_scipy = package("scipy", "0.19.0", license=LicenseFields(text="Copyright...\n" * 30))
    _, found = judged(tmp_path, old_scipy)
    assert [rule for rule, _, _, _ in found] == ["licenses.unknown"]


def test_lockfile_packages_use_the_metadata_the_index_serves(tmp_path: Path) -> None:
    bare = package("requests", "2.32.5")
    facts = RegistryFacts(url="http://127.0.0.1/simple", fetched_at="2026-11-26T00:00:00Z", from_cache=False,
                          releases=(ReleaseFacts(name="requests", version="2.32.5",
                                                 license=LicenseFields(text="Apache-2.0")),))
    _, found = judged(tmp_path, bare, registry=facts)
    assert found == []
    _, without = judged(tmp_path, bare)
    assert [rule for rule, _, _, _ in without] == ["licenses.unknown"]


def test_note_counts_resolved_and_unknown(tmp_path: Path) -> None:
    decision, _ = judged(tmp_path, licensed("a", text="MIT"), licensed("b"), unknown="allow")
    assert "Licences: 1 resolved, 1 unknown, of 2 packages." in decision.notes
