"""``gl-dependency-scanning-report.json``: GitLab's dependency-scanning security report,
schema 15.1.x (``artifacts:reports:dependency_scanning``), from the result document.

It carries the advisory findings (blocking, warning and waived: GitLab's vulnerability
report is the inventory, the gate's verdict is the policy decision; each vulnerability's
``details`` say which it was and what waiver applied). Policy violations (licences,
sources, consistency, ...) are not vulnerabilities: a scan message counts them and points
at report.md. There is no ``dependency_files`` list: schema 15.1.0 removed it, and GitLab
takes the dependency list from the CycloneDX SBOM (``artifacts:reports:cyclonedx``).

Only the description and solution are Markdown (GitLab Flavored); they are escaped like the
report. Everything that goes into a field with a schema pattern (URLs, CVSS vectors) is
built here or checked against the pattern first, because GitLab rejects the whole report
when one field fails its schema."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

from gate.clock import parse_instant
from gate.fileio import dump_json
from gate.report.escape import advisory_link, markdown_text, one_line
from gate.report.locations import identity, item_place

REPORT_VERSION = "15.1.5"
REPORT_SCHEMA = ("https://gitlab.com/gitlab-org/security-products/security-report-schemas/-/raw/"
                 f"v{REPORT_VERSION}/dist/dependency-scanning-report-format.json")
ANALYZER = {"id": "promotion-gate", "name": "Promotion Gate", "vendor": {"name": "Promotion Gate"}}
NAME_LIMIT = 255
SOLUTION_LIMIT = 7000
DESCRIPTION_LIMIT = 20000
_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_DNS, "promotion-gate")  # the ids are uuid5s under it: stable per run

_SEVERITY = {"malicious": "Critical", "critical": "Critical", "high": "High", "medium": "Medium", "low": "Low",
             "unknown": "Unknown"}
# The two vector shapes the schema accepts (CVSS v2 and v3.x); a v4 vector has no place in 15.x.
_CVSS_V2 = re.compile(
    r"^((AV:[NAL]|AC:[LMH]|Au:[MSN]|[CIA]:[NPC]|E:(U|POC|F|H|ND)|RL:(OF|TF|W|U|ND)|RC:(UC|UR|C|ND)|"
    r"CDP:(N|L|LM|MH|H|ND)|TD:(N|L|M|H|ND)|[CIA]R:(L|M|H|ND))/)*(AV:[NAL]|AC:[LMH]|Au:[MSN]|[CIA]:[NPC]|"
    r"E:(U|POC|F|H|ND)|RL:(OF|TF|W|U|ND)|RC:(UC|UR|C|ND)|CDP:(N|L|LM|MH|H|ND)|TD:(N|L|M|H|ND)|[CIA]R:(L|M|H|ND))$")
_CVSS_V3 = re.compile(
    r"^CVSS:3[.][01]/((AV:[NALP]|AC:[LH]|PR:[NLH]|UI:[NR]|S:[UC]|[CIA]:[NLH]|E:[XUPFH]|RL:[XOTWU]|RC:[XURC]|"
    r"[CIA]R:[XLMH]|MAV:[XNALP]|MAC:[XLH]|MPR:[XNLH]|MUI:[XNR]|MS:[XUC]|M[CIA]:[XNLH])/)*(AV:[NALP]|AC:[LH]|"
    r"PR:[NLH]|UI:[NR]|S:[UC]|[CIA]:[NLH]|E:[XUPFH]|RL:[XOTWU]|RC:[XURC]|[CIA]R:[XLMH]|MAV:[XNALP]|MAC:[XLH]|"
    r"MPR:[XNLH]|MUI:[XNR]|MS:[XUC]|M[CIA]:[XNLH])$")
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_ID_TYPE = re.compile(r"^([A-Za-z]+)-")


def _scan_time(instant: str) -> str:
    """GitLab's ``yyyy-mm-ddThh:mm:ss`` (UTC, no zone)."""
    return parse_instant(instant).strftime("%Y-%m-%dT%H:%M:%S")


def identifier(value: str) -> dict[str, str]:
    """An identifier object: the type from the ID's prefix (ghsa, cve, pysec, mal, ...), a link
    only for an ID made of safe characters, to a page whose address we build ourselves."""
    prefix = _ID_TYPE.match(value)
    kind = prefix.group(1).lower() if prefix else "osv"
    entry = {"type": kind, "name": value, "value": value}
    if _SAFE_ID.match(value):
        if kind == "ghsa":
            entry["url"] = f"https://github.com/advisories/{value}"
        elif kind == "cve":
            entry["url"] = f"https://www.cve.org/CVERecord?id={value}"
        else:
            entry["url"] = str(advisory_link(value))
    return entry


def _text(name: str, value: str) -> dict[str, str]:
    return {"name": name, "type": "text", "value": value}


def _details(finding: Mapping[str, Any]) -> dict[str, Any]:
    details: dict[str, Any] = {"gate_status": _text("Promotion Gate status", str(finding["status"]))}
    fixed = [str(version) for version in finding.get("fixed_in") or []]
    if fixed:
        details["fixed_in"] = {"name": "Fixed in", "type": "list",
                               "items": [{"type": "text", "value": version} for version in fixed]}
    if finding.get("uncertain"):
        details["uncertain"] = _text("Uncertain match", str(finding["uncertain"]))
    waiver = finding.get("waiver")
    if isinstance(waiver, Mapping):
        details["waiver"] = {"name": "Waiver", "type": "named-list", "items": {
            key: _text(key.capitalize(), str(waiver.get(key)))
            for key in ("id", "reason", "owner", "expires") if waiver.get(key) is not None
        }}
    return details


def _description(finding: Mapping[str, Any]) -> str:
    summary = str(finding.get("summary") or "")
    aliases = [str(alias) for alias in finding.get("aliases") or []]
    score = finding.get("score")
    parts = [markdown_text(summary or "(no summary)", DESCRIPTION_LIMIT)]
    if aliases:
        parts.append("Also known as " + ", ".join(markdown_text(alias) for alias in aliases) + ".")
    severity = str(finding["severity"]) + (f" {score:.1f}" if isinstance(score, (int, float)) else "")
    parts.append(f"Severity: {markdown_text(severity)}. Promotion Gate status: {markdown_text(finding['status'])}.")
    return "\n\n".join(parts)


def _solution(finding: Mapping[str, Any]) -> str:
    package = markdown_text(finding["package"], NAME_LIMIT)
    fix = finding.get("fix")
    if fix:
        text = f"Upgrade {package} to {markdown_text(fix)} or later."
    else:
        text = f"No fixed version of {package} is known: remove it, or waive the advisory in the policy with a reason."
    return text[:SOLUTION_LIMIT]


def _vulnerability(document: Mapping[str, Any], finding: Mapping[str, Any], *, root: str | None,
                   base: str | None) -> dict[str, Any]:
    advisory_id = str(finding["id"])
    place = item_place(document, finding, root=root, base=base)
    version = finding.get("version")
    vulnerability: dict[str, Any] = {
        "id": str(uuid.uuid5(_ID_NAMESPACE, identity(advisory_id, finding["package"], place.path))),
        "name": one_line(str(finding.get("summary") or advisory_id), NAME_LIMIT) or advisory_id,
        "description": _description(finding),
        "severity": _SEVERITY.get(str(finding["severity"]), "Unknown"),
        "solution": _solution(finding),
        "identifiers": [identifier(advisory_id),
                        *(identifier(str(alias)) for alias in finding.get("aliases") or [] if alias)],
        "location": {
            "file": place.path,
            "dependency": {"package": {"name": str(finding["package"])},
                           "version": str(version) if version is not None else ""},
        },
        "details": _details(finding),
    }
    vector = finding.get("vector")
    if isinstance(vector, str) and 16 <= len(vector) <= 128 and (_CVSS_V3.match(vector) or _CVSS_V2.match(vector)):
        vulnerability["cvss_vectors"] = [{"vendor": "unknown", "vector": vector}]
    return vulnerability


def _messages(document: Mapping[str, Any]) -> list[dict[str, str]]:
    summary = document.get("summary") or {}
    stage = document.get("stage")
    messages = [{"level": "info", "value": one_line(
        f"Promotion Gate decision: {document['decision']}" + (f" ({stage})" if stage else "")
        + f"; {summary.get('blocking', 0)} blocking, {summary.get('waived', 0)} waived, "
        f"{summary.get('warnings', 0)} warnings")}]
    violations = document.get("violations") or []
    if violations:
        blocking = sum(1 for violation in violations if violation.get("status") == "blocking")
        rules = sorted({str(violation["rule"]) for violation in violations})
        messages.append({"level": "warn" if blocking else "info", "value": one_line(
            f"{len(violations)} policy violation(s), {blocking} blocking, are not vulnerabilities and are not "
            f"listed here (rules: {', '.join(rules)}): see report.md in the job's artifacts", 2000)})
    return messages


def gitlab_document(document: Mapping[str, Any], *, root: str | None = None,
                   base: str | None = None) -> dict[str, Any]:
    """The dependency-scanning report for a result document; ``root`` and ``base`` as in
    gate.report.locations."""
    tool = document.get("tool") or {}
    version = str(tool.get("version") or "0")
    findings = list(document.get("findings") or [])
    vulnerabilities = [_vulnerability(document, finding, root=root, base=base) for finding in findings]
    primary = {str(finding["id"]): identifier(str(finding["id"])) for finding in findings}
    time = _scan_time(str(document["checked_at"]))
    return {
        "version": REPORT_VERSION,
        "schema": REPORT_SCHEMA,
        "scan": {
            "type": "dependency_scanning",
            "status": "success",  # the scan ran; the gate's verdict is in the messages and in result.json
            "start_time": time,
            "end_time": time,
            "analyzer": {**ANALYZER, "version": version},
            "scanner": {**ANALYZER, "version": version},
            "messages": _messages(document),
            "primary_identifiers": [primary[key] for key in sorted(primary)],
        },
        "vulnerabilities": vulnerabilities,
    }


def render_gitlab(document: Mapping[str, Any], *, root: str | None = None, base: str | None = None) -> str:
    return dump_json(gitlab_document(document, root=root, base=base))
