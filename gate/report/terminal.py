"""The short summary printed to the CI log; the full story is in report.md."""

from __future__ import annotations

from gate.model import Decision, Finding, Status, Violation
from gate.report.escape import terminal_text
from gate.report.result import by_severity, counts, fix_hint

MAX_LINES = 20


def _finding_line(finding: Finding) -> str:
    advisory = finding.advisory
    aliases = f" ({', '.join(advisory.aliases)})" if advisory.aliases else ""
    fix = fix_hint(finding)
    text = (f"{finding.package.name} {finding.package.version}: {advisory.id}{aliases} "
            f"{advisory.severity.level.value}" + (f", fix {fix}" if fix else ""))
    if finding.uncertain:
        text += " [uncertain match]"
    return terminal_text(text, 200)


def _violation_line(violation: Violation) -> str:
    who = f"{violation.package.label}: " if violation.package else ""
    return terminal_text(f"{violation.rule}: {who}{violation.detail}", 200)


def summary_lines(decision: Decision) -> list[str]:
    c = counts(decision)
    stage = f" ({decision.policy.stage})" if decision.policy.stage else ""
    head = (f"gate: {decision.verdict.value.upper()}{stage}: {c['blocking']} blocking, {c['waived']} waived, "
            f"{c['warnings']} warnings; {len(decision.environment.packages)} packages")
    if decision.models:
        head += f", {len(decision.models)} model files"
    if decision.database is not None:
        head += f", {decision.database.records} advisories"
    lines = [terminal_text(head)]
    blocking: list[Finding | Violation] = [
        *by_severity(f for f in decision.findings if f.status is Status.BLOCKING),
        *by_severity(v for v in decision.violations if v.status is Status.BLOCKING),
    ]
    for item in blocking[:MAX_LINES]:
        body = _finding_line(item) if isinstance(item, Finding) else _violation_line(item)
        lines.append(f"  blocking  {body}")
    if len(blocking) > MAX_LINES:
        lines.append(f"  ... and {len(blocking) - MAX_LINES} more blocking; see report.md")
    return lines
