"""``report.md``: the human report, from ``gate/templates/report.md.j2``.

Every ``{{ value }}`` in the template is escaped by the environment's ``finalize`` hook, so
forgetting a filter cannot let a hostile string through; only :class:`Markup` produced here
(links to advisories we build ourselves) passes unescaped."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from gate.clock import format_instant
from gate.model import Decision, Finding, ModelFile, Safety, Status, Violation
from gate.report.escape import advisory_link, markdown_text
from gate.report.result import by_severity, counts, fix_hint

if TYPE_CHECKING:
    import jinja2

SUMMARY_LIMIT = 160


SECTION_TITLES = {
    "vulnerabilities": "Vulnerability rules",
    "packages": "Denied packages",
    "licenses": "Licences",
    "sources": "Sources",
    "registry": "Registry",
    "consistency": "Consistency",
    "drift": "Drift",
    "models": "Model files",
}
MODEL_IMPORTS_SHOWN = 5


def _by_section(violations: list[Violation]) -> list[tuple[str, list[Violation]]]:
    """Violations grouped by policy section, in the order of the policy's sections."""
    order = list(SECTION_TITLES)
    groups: dict[str, list[Violation]] = {}
    for violation in violations:
        groups.setdefault(violation.rule.split(".")[0], []).append(violation)
    return sorted(groups.items(), key=lambda item: order.index(item[0]) if item[0] in order else len(order))


def _finalize(value: Any) -> Any:
    if isinstance(value, Markup):
        return value
    if value is None:
        return ""
    return markdown_text(value)


def _ids(finding: Finding) -> Markup:
    """The primary ID linked to osv.dev, then the aliases, all escaped."""
    advisory = finding.advisory
    link = advisory_link(advisory.id)
    primary = markdown_text(advisory.id)
    parts = [f"[{primary}]({link})" if link else primary]
    parts.extend(markdown_text(alias) for alias in advisory.aliases)
    return Markup(", ".join(parts))


def _severity(finding: Finding) -> str:
    severity = finding.advisory.severity
    text = severity.level.value
    if severity.score is not None:
        text += f" {severity.score:.1f}"
    if finding.uncertain:
        text += " (uncertain match)"
    return text


def _short(text: str) -> Markup:
    return Markup(markdown_text(text, SUMMARY_LIMIT))


_DIGEST = re.compile(r"^[a-z0-9]+:[0-9a-f]{1,128}$")
_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:\d{2})$")


def _instant(value: str) -> Markup:
    """A timestamp shown as written; anything that is not one is escaped as text instead."""
    return Markup(value) if _INSTANT.match(value) else Markup(markdown_text(value))


def _digest(value: str) -> Markup:
    """A digest in a code span; anything that is not one is escaped as text instead."""
    return Markup(f"`{value}`") if _DIGEST.match(value) else Markup(markdown_text(value))


_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _short_sha256(value: str) -> Markup:
    """The first 12 hex digits in a code span (the full digest is in result.json and the SBOM)."""
    return Markup(f"`{value[:12]}`") if _SHA256.match(value) else Markup(markdown_text(value or "(not read)"))


def _model_flags(model: ModelFile) -> Markup:
    """The dangerous and suspicious imports and the problem count, each name escaped."""
    parts = []
    for safety in (Safety.DANGEROUS, Safety.SUSPICIOUS):
        names = [i.qualified for i in model.imports if i.safety is safety]
        if names:
            shown = ", ".join(markdown_text(name, 80) for name in names[:MODEL_IMPORTS_SHOWN])
            more = f" and {len(names) - MODEL_IMPORTS_SHOWN} more" if len(names) > MODEL_IMPORTS_SHOWN else ""
            parts.append(f"{safety.value}: {shown}{more}")
    if model.problems:
        parts.append(f"{len(model.problems)} problem(s)")
    return Markup("; ".join(parts) or "none")


def _environment() -> jinja2.Environment:
    import jinja2  # only when a report is written: a sixth of the start-up of a check without --out

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("gate", "templates"),
        autoescape=False,
        finalize=_finalize,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(ids=_ids, severity=_severity, fix=fix_hint, short=_short, digest=_digest,
                       instant=_instant, short_sha256=_short_sha256, model_flags=_model_flags)
    return env


def render_markdown(decision: Decision) -> str:
    template = _environment().get_template("report.md.j2")

    def of(items: tuple[Finding, ...] | tuple[Violation, ...], status: Status) -> list[Any]:
        return by_severity(item for item in items if item.status is status)

    return template.render(
        sections=SECTION_TITLES,
        blocking_by_section=_by_section(of(decision.violations, Status.BLOCKING)),
        decision=decision,
        checked_at=format_instant(decision.checked_at),
        counts=counts(decision),
        blocking_findings=of(decision.findings, Status.BLOCKING),
        waived_findings=of(decision.findings, Status.WAIVED),
        warning_findings=of(decision.findings, Status.WARNING),
        warning_violations=of(decision.violations, Status.WARNING),
    )
