from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from gate.errors import AdvisoryDataError
from gate.model import DatabaseInfo, Decision, Level, Match, Package, Status, Verdict
from gate.policy import load_policy
from gate.policy.evaluate import evaluate
from gate.policy.model import Policy
from gate.policy.rules.vulnerabilities import merge_matches
from tests.factories import NOW, advisory, database, environment, match, package


def policy_from(tmp_path: Path, text: str) -> Policy:
    path = tmp_path / "p.yml"
    path.write_text(text, encoding="utf-8")
    return load_policy(path)


def run(tmp_path: Path, text: str, *matches: Match, packages: list[Package] | None = None, now: dt.datetime = NOW,
        db: DatabaseInfo | None = None) -> Decision:
    pkgs = packages or sorted({m.package for m in matches}, key=lambda p: p.name)
    return evaluate(environment=environment(*pkgs), policy=policy_from(tmp_path, text), matches=list(matches),
                    database=db or database(), now=now)


REQUESTS = package("requests", "2.19.1")


def test_aliases_merge_into_one_finding_with_every_id() -> None:
    pysec = advisory("PYSEC-2018-28", "CVE-2018-18074", fixed=("2.20.0",))
    ghsa = advisory("GHSA-x84v-xcm2-53pg", "CVE-2018-18074", level=Level.MEDIUM, score=6.1, fixed=("2.20",))
    other = advisory("PYSEC-2023-74", "CVE-2023-32681", fixed=("2.31.0",))
    merged = merge_matches([match(pysec, REQUESTS), match(ghsa, REQUESTS), match(other, REQUESTS)])
    assert sorted((m.advisory.id, m.advisory.aliases) for m in merged) == [
        ("GHSA-x84v-xcm2-53pg", ("CVE-2018-18074", "PYSEC-2018-28")),
        ("PYSEC-2023-74", ("CVE-2023-32681",)),
    ]
    first = next(m for m in merged if m.advisory.id.startswith("GHSA"))
    assert first.advisory.severity.level is Level.HIGH  # the highest of the merged records
    assert first.advisory.fixed == ("2.20", "2.20.0")


def test_aliases_merge_transitively() -> None:
    a = advisory("PYSEC-1", "CVE-1")
    b = advisory("GHSA-2", "CVE-1", "CVE-2")
    c = advisory("OSV-3", "CVE-2")
    (merged,) = merge_matches([match(a, REQUESTS), match(b, REQUESTS), match(c, REQUESTS)])
    assert merged.advisory.id == "GHSA-2"
    assert merged.advisory.aliases == ("CVE-1", "CVE-2", "OSV-3", "PYSEC-1")


def test_same_advisory_on_two_packages_stays_two_findings() -> None:
    adv = advisory("PYSEC-1")
    assert len(merge_matches([match(adv, REQUESTS), match(adv, package("urllib3", "1.24.1"))])) == 2


def test_block_at_threshold(tmp_path: Path) -> None:
    high = match(advisory("PYSEC-H", level=Level.HIGH), REQUESTS)
    low = match(advisory("PYSEC-L", level=Level.LOW, score=2.0), REQUESTS)
    decision = run(tmp_path, "vulnerabilities: {block_at: high}\n", high, low)
    assert {(f.advisory.id, f.status) for f in decision.findings} == {
        ("PYSEC-H", Status.BLOCKING), ("PYSEC-L", Status.WARNING)}
    assert decision.verdict is Verdict.FAIL
    only_low = run(tmp_path, "vulnerabilities: {block_at: high}\n", low)
    assert only_low.verdict is Verdict.PASS


@pytest.mark.parametrize(("setting", "status"), [("block", Status.BLOCKING), ("warn", Status.WARNING)])
def test_unknown_severity(tmp_path: Path, setting: str, status: Status) -> None:
    unknown = match(advisory("PYSEC-U", level=Level.UNKNOWN, score=None), REQUESTS)
    decision = run(tmp_path, f"vulnerabilities: {{block_at: critical, unknown_severity: {setting}}}\n", unknown)
    assert [f.status for f in decision.findings] == [status]


@pytest.mark.parametrize(("setting", "status"), [("block", Status.BLOCKING), ("warn", Status.WARNING)])
def test_uncertain_match(tmp_path: Path, setting: str, status: Status) -> None:
    uncertain = match(advisory("PYSEC-X", level=Level.LOW, score=1.0), REQUESTS,
                      uncertain="advisory range bound '2.6.0-NA' is not a PEP 440 version")
    decision = run(tmp_path, f"vulnerabilities: {{block_at: critical, uncertain_match: {setting}}}\n", uncertain)
    assert [(f.status, f.uncertain) for f in decision.findings] == [
        (status, "advisory range bound '2.6.0-NA' is not a PEP 440 version")]


def test_malicious_always_blocks_even_when_waived(tmp_path: Path) -> None:
    mal = match(advisory("MAL-2024-1", level=Level.MALICIOUS, score=None, malicious=True), REQUESTS)
    decision = run(tmp_path, "vulnerabilities:\n  block_at: critical\n  waivers:\n"
                             "    - {id: MAL-2024-1, reason: r, owner: o, expires: 2099-01-01}\n", mal)
    assert [f.status for f in decision.findings] == [Status.BLOCKING]
    assert [(v.rule, v.status) for v in decision.violations] == [("vulnerabilities.waivers", Status.WARNING)]


def test_waiver_by_alias(tmp_path: Path) -> None:
    adv = match(advisory("PYSEC-2018-28", "CVE-2018-18074", "GHSA-x84v-xcm2-53pg"), REQUESTS)
    decision = run(tmp_path, "vulnerabilities:\n  waivers:\n    - id: ghsa-x84v-xcm2-53pg\n"
                             "      reason: proxies unused\n      owner: sec@example.com\n      expires: 2027-01-31\n",
                   adv)
    (finding,) = decision.findings
    assert finding.status is Status.WAIVED
    assert finding.waiver is not None and finding.waiver.reason == "proxies unused"
    assert decision.violations == ()
    assert decision.verdict is Verdict.PASS


def test_package_scoped_waiver_only_covers_that_package(tmp_path: Path) -> None:
    adv = advisory("PYSEC-9", "CVE-9")
    urllib3 = package("urllib3", "1.24.1")
    decision = run(tmp_path, "vulnerabilities:\n  waivers:\n    - {id: CVE-9, package: URLLib3, reason: r, owner: o,"
                             " expires: 2027-01-31}\n", match(adv, REQUESTS), match(adv, urllib3))
    assert {(f.package.name, f.status) for f in decision.findings} == {
        ("requests", Status.BLOCKING), ("urllib3", Status.WAIVED)}


def test_expired_waiver_is_a_violation_and_does_not_apply(tmp_path: Path) -> None:
    adv = match(advisory("PYSEC-9", "CVE-9"), REQUESTS)
    text = "vulnerabilities:\n  waivers:\n    - {id: CVE-9, reason: r, owner: sec@example.com, expires: 2026-11-25}\n"
    decision = run(tmp_path, text, adv)
    assert [f.status for f in decision.findings] == [Status.BLOCKING]
    assert [(v.rule, v.status, v.detail) for v in decision.violations] == [(
        "vulnerabilities.waivers", Status.BLOCKING,
        "waiver for CVE-9 expired on 2026-11-25 (owner sec@example.com): renew it or fix the package")]
    # the expiry day itself is still covered
    on_the_day = run(tmp_path, text, adv, now=dt.datetime(2026, 11, 25, 23, 59, tzinfo=dt.UTC))
    assert [f.status for f in on_the_day.findings] == [Status.WAIVED]


def test_unused_waiver_is_a_warning(tmp_path: Path) -> None:
    decision = run(tmp_path, "vulnerabilities:\n  waivers:\n    - {id: CVE-0, package: numpy, reason: r, owner: o,"
                             " expires: 2027-01-31}\n", packages=[REQUESTS])
    assert [(v.rule, v.status, v.detail) for v in decision.violations] == [(
        "vulnerabilities.waivers", Status.WARNING, "waiver for CVE-0 for numpy matched no finding: remove it")]
    assert decision.verdict is Verdict.PASS


def test_unpinned_package_cannot_be_judged(tmp_path: Path) -> None:
    loose = package("numpy", None, specifier=">=1.22")
    decision = run(tmp_path, "vulnerabilities: {}\n", packages=[loose])
    assert [(v.rule, v.status) for v in decision.violations] == [("vulnerabilities.unpinned", Status.BLOCKING)]


def test_no_vulnerabilities_section_checks_nothing(tmp_path: Path) -> None:
    adv = match(advisory("PYSEC-9"), REQUESTS)
    decision = run(tmp_path, "stage: x\n", adv)
    assert decision.findings == ()
    assert decision.verdict is Verdict.PASS
    assert decision.notes == ("Vulnerabilities were not checked: the policy has no `vulnerabilities` section.",)


def test_stale_database_gives_no_verdict(tmp_path: Path) -> None:
    with pytest.raises(AdvisoryDataError) as caught:
        run(tmp_path, "advisory_db: {max_age_days: 2}\nvulnerabilities: {}\n", packages=[REQUESTS],
            db=database(newest="2026-11-20T12:00:00Z"))
    assert str(caught.value) == (f"advisory database is 6 days old (newest record modified 2026-11-20); policy "
                                 f"{tmp_path / 'p.yml'} allows advisory_db.max_age_days=2: run `gate db update`")


def test_fresh_database_passes(tmp_path: Path) -> None:
    decision = run(tmp_path, "advisory_db: {max_age_days: 2}\nvulnerabilities: {}\n", packages=[REQUESTS],
                   db=database(newest="2026-11-25T00:00:00Z"))
    assert decision.verdict is Verdict.PASS
    assert decision.notes == ("Advisory data is 1 day(s) old (limit 2).",)
