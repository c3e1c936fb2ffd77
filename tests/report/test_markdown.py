from __future__ import annotations

import datetime as dt
from pathlib import Path

from gate.model import Decision, Level, Status
from gate.policy import load_policy
from gate.policy.evaluate import evaluate
from gate.report import render_markdown, result_document, summary_lines
from tests.factories import NOW, advisory, database, environment, match, package

POLICY = """\
stage: production
vulnerabilities:
  block_at: high
  waivers:
    - {id: CVE-2023-32681, reason: "proxies <b>unused</b>", owner: sec@example.com, expires: 2027-01-31}
packages:
  deny:
    - {name: evil, reason: "typosquat"}
"""


def decision(tmp_path: Path) -> Decision:
    path = tmp_path / "production.yml"
    path.write_text(POLICY, encoding="utf-8")
    requests = package("requests", "2.19.1")
    hostile = package("evil", "1.0")
    matches = [
        match(advisory("PYSEC-2018-28", "CVE-2018-18074", fixed=("2.20.0",)), requests),
        match(advisory("PYSEC-2023-74", "CVE-2023-32681", level=Level.MEDIUM, score=6.1, fixed=("2.31.0",)),
              requests),
        match(advisory("PYSEC-2099-1", level=Level.LOW, score=3.0, fixed=()), hostile),
    ]
    hostile_summary = matches[2].advisory.__class__(
        id="PYSEC-2099-1", summary="<script>alert(1)</script> [x](javascript:alert(1)) @admin |",
        severity=matches[2].advisory.severity)
    matches[2] = match(hostile_summary, hostile)
    return evaluate(environment=environment(requests, hostile), policy=load_policy(path), matches=matches,
                    database=database(), now=NOW)


def test_report_orders_verdict_blocking_then_folded_sections(tmp_path: Path) -> None:
    text = render_markdown(decision(tmp_path))
    lines = text.splitlines()
    assert lines[0] == "## ❌ Promotion Gate: blocked from production"
    assert lines[2] == "**2** blocking · **1** waived · **1** warnings · 2 packages checked"
    blocking = text.index("### Blocking vulnerabilities")
    violations = text.index("### Denied packages: blocking")
    waived = text.index("<details><summary>Waived (1)</summary>")
    warnings = text.index("<details><summary>Warnings (1)</summary>")
    totals = text.index("### Totals")
    assert blocking < violations < waived < warnings < totals
    assert ("| requests | 2.19.1 | [PYSEC-2018-28](https://osv.dev/vulnerability/PYSEC-2018-28), CVE-2018-18074 "
            "| high 7.5 | 2.20.0 |") in lines
    assert "| packages.deny | evil==1.0 | denied in every version&#58; typosquat |" in lines
    assert ("| requests | 2.19.1 | [PYSEC-2023-74](https://osv.dev/vulnerability/PYSEC-2023-74), CVE-2023-32681 "
            "| medium 6.1 | proxies &lt;b&gt;unused&lt;/b&gt; | sec&#64;example.com | 2027-01-31 |") in lines


def test_report_escapes_hostile_advisory_text(tmp_path: Path) -> None:
    text = render_markdown(decision(tmp_path))
    assert "<script>" not in text
    assert "](javascript" not in text
    assert "@admin" not in text
    assert ("- PYSEC-2099-1 (evil): &lt;script&gt;alert\\(1\\)&lt;/script&gt; "
            "\\[x\\]\\(javascript&#58;alert\\(1\\)\\) &#64;admin &#124;") in text


def test_passing_report(tmp_path: Path) -> None:
    path = tmp_path / "p.yml"
    path.write_text("stage: staging\nvulnerabilities: {}\n", encoding="utf-8")
    result = evaluate(environment=environment(package("numpy", "2.3.3")), policy=load_policy(path), matches=[],
                      database=database(), now=NOW)
    text = render_markdown(result)
    assert text.startswith("## ✅ Promotion Gate: pass for staging\n\n**0** blocking · **0** waived · **0** warnings")
    assert "Blocking" not in text


def test_result_document(tmp_path: Path) -> None:
    document = result_document(decision(tmp_path))
    assert document["schema_version"] == 1
    assert document["decision"] == "fail"
    assert document["checked_at"] == "2026-11-26T12:00:00Z"
    assert document["environment"]["packages"] == 2
    assert document["summary"] == {"blocking": 2, "waived": 1, "warnings": 1, "findings": 3, "violations": 1}
    first = document["findings"][0]
    assert first == {
        "id": "PYSEC-2099-1", "aliases": [], "package": "evil", "version": "1.0",
        "location": "site-packages/evil-1.0.dist-info/METADATA", "severity": "low", "score": 3.0, "vector": None,
        "summary": "<script>alert(1)</script> [x](javascript:alert(1)) @admin |", "url": None, "fixed_in": [],
        "fix": None, "status": "warning", "uncertain": None, "waiver": None,
    }
    waived = next(f for f in document["findings"] if f["status"] == Status.WAIVED.value)
    assert waived["waiver"] == {"id": "CVE-2023-32681", "package": None, "reason": "proxies <b>unused</b>",
                                "owner": "sec@example.com", "expires": "2027-01-31"}
    assert document["violations"] == [{"rule": "packages.deny", "package": "evil", "version": "1.0",
                                       "location": "site-packages/evil-1.0.dist-info/METADATA",
                                       "detail": "denied in every version: typosquat", "status": "blocking"}]


def test_terminal_summary(tmp_path: Path) -> None:
    assert summary_lines(decision(tmp_path)) == [
        "gate: FAIL (production): 2 blocking, 1 waived, 1 warnings; 2 packages, 3 advisories",
        "  blocking  requests 2.19.1: PYSEC-2018-28 (CVE-2018-18074) high, fix 2.20.0",
        "  blocking  packages.deny: evil==1.0: denied in every version: typosquat",
    ]


def test_fix_hint_picks_lowest_fix_above_installed() -> None:
    from gate.model import Finding
    from gate.report.result import fix_hint

    adv = advisory("PYSEC-1", fixed=("1.2.3", "2.0.1", "3.0", "not-a-version"))
    assert fix_hint(Finding(advisory=adv, package=package("x", "2.0.0"), status=Status.BLOCKING)) == "2.0.1"
    assert fix_hint(Finding(advisory=adv, package=package("x", "3.0"), status=Status.BLOCKING)) is None
    _ = dt
