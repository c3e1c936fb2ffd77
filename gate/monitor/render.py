"""The monitor report as Markdown (a job summary, an issue body) and as JSON. Every string that came
from a record, a package or an advisory is escaped (``gate.report.escape``): an environment name or an
advisory summary is written by someone else."""

from __future__ import annotations

from gate.clock import format_instant
from gate.fileio import dump_json
from gate.monitor.core import Change, EnvironmentReport, MonitorReport
from gate.report.escape import advisory_link, markdown_text

_TITLES = {
    "new": "New finding",
    "now_blocking": "Now blocking",
    "new_violation": "New violation",
    "fix_available": "Fix available",
    "withdrawn": "Advisory withdrawn",
    "no_longer_affected": "No longer affected",
    "waiver_expired": "Waiver expired",
    "waiver_expiring": "Waiver expiring",
}
MAX_LISTED = 200  # environments detailed in one Markdown report; the JSON has them all


def render_json(report: MonitorReport) -> str:
    return dump_json(report.document())


def render_markdown(report: MonitorReport) -> str:
    document = report.document()
    summary = document["summary"]
    lines = [
        "# Promotion Gate monitor",
        "",
        f"Checked {summary['environments']} environment(s) at {format_instant(report.checked_at)} against advisory "
        f"database {markdown_text(report.database['digest'])} ({report.database['records']} records, newest "
        f"{markdown_text(report.database['newest_modified'] or 'unknown')}).",
        "",
        f"**{summary['failing']} environment(s) of a failing stage ({', '.join(report.failing_stages) or 'none'}) "
        f"now blocked**; {summary['newly_blocking']} newly blocking in all; {summary['changed']} with changes.",
        "",
        "| change | count |",
        "| --- | ---: |",
        *(f"| {_TITLES[kind]} | {summary[kind]} |" for kind in _TITLES),
        "",
    ]
    changed = report.changed
    for environment in changed[:MAX_LISTED]:
        lines.extend(environment_markdown(environment, heading="##"))
    if len(changed) > MAX_LISTED:
        lines.append(f"… and {len(changed) - MAX_LISTED} more environment(s) with changes: see the JSON report.")
        lines.append("")
    if not changed:
        lines.extend(["No changes since the recorded decisions.", ""])
    for note in report.notes:
        lines.append(f"> {markdown_text(note)}")
    return "\n".join(lines).rstrip("\n") + "\n"


def environment_title(environment: EnvironmentReport) -> str:
    s = environment.subject
    return f"{s.repository or '(no repository)'} · {s.stage or 'no stage'} · {s.name}"


def environment_markdown(environment: EnvironmentReport, *, heading: str = "##") -> list[str]:
    s = environment.subject
    flag = " — newly blocked" if environment.newly_blocking else ""
    lines = [
        f"{heading} {markdown_text(environment_title(environment))}{flag}",
        "",
        f"Record {markdown_text(s.record, 120)} of {format_instant(s.recorded_at)}"
        + (f", commit {markdown_text(s.commit, 40)}" if s.commit else "")
        + f": recorded decision **{markdown_text(s.recorded_verdict)}**, now **{markdown_text(environment.verdict)}**.",
        "",
        "| change | advisory | package | status now | detail |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines.extend(_row(change) for change in environment.changes)
    lines.append("")
    return lines


def _row(change: Change) -> str:
    identifier = ""
    if change.id:
        link = advisory_link(change.id)
        identifier = f"[{markdown_text(change.id)}]({link})" if link else markdown_text(change.id)
        if change.aliases:
            identifier += " (" + ", ".join(markdown_text(a) for a in change.aliases[:4]) + ")"
    package = ""
    if change.package:
        package = markdown_text(change.package) + (f" {markdown_text(change.version)}" if change.version else "")
    status = markdown_text(change.status) if change.status else "—"
    if change.newly_blocking:
        status = f"**{status}**"
    return (f"| {_TITLES[change.kind]} | {identifier or '—'} | {package or '—'} | {status} | "
            f"{markdown_text(change.detail, 300)} |")
