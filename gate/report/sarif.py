"""``results.sarif``: SARIF 2.1.0 for GitHub code scanning (and any SARIF viewer).

Rendered from the result document (the dict of result.json, schema_version 1), so the same
code serves ``gate check`` and a stored result.json. One rule per advisory and per policy rule
(``policy/licenses.unknown``, ...); one result per finding or violation, located at the
lockfile line (for an installed environment, the distribution's METADATA file).

Severity reaches GitHub twice: the result ``level`` (blocking -> error, warning -> warning,
waived -> note with an ``accepted`` suppression carrying the waiver) and the rule's
``security-severity`` property, which code scanning turns into critical/high/medium/low.
``partialFingerprints.primaryLocationLineHash`` is a digest of rule, package and file, so an
alert survives edits to other lines and an upgrade that is still affected.

Advisory and package text is hostile. GitHub renders SARIF message text with Markdown and
SARIF itself reads ``[text](target)`` in plain text as a link, so every displayed string is
flattened to one line and the punctuation that opens links, HTML and code is backslash-escaped
(the escape both SARIF and CommonMark define); ``help.markdown`` gets the report's full Markdown escaping. The raw
values stay available, as data only, in the ``properties`` bags."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from gate.fileio import dump_json
from gate.report.escape import advisory_link, markdown_text, one_line
from gate.report.locations import Place, identity, item_place

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
TOOL_NAME = "Promotion Gate"
SRCROOT = "%SRCROOT%"

DESCRIPTION_LIMIT = 1000  # code scanning's limit for short and full descriptions is 1024
MESSAGE_SUMMARY_LIMIT = 300
HELP_LIMIT = 4000

_LEVEL = {"blocking": "error", "warning": "warning", "waived": "note"}
# GitHub maps security-severity to critical (>= 9.0), high (7.0-8.9), medium (4.0-6.9), low (0.1-3.9).
_SECURITY_SEVERITY = {"malicious": 10.0, "critical": 9.5, "high": 8.0, "medium": 5.5, "low": 2.0}
_BANDS = {"critical": (9.0, 10.0), "high": (7.0, 8.9), "medium": (4.0, 6.9), "low": (0.1, 3.9)}

POLICY_RULES = {
    "vulnerabilities.unpinned": "A requirement is not pinned, so advisories cannot be matched against it",
    "vulnerabilities.waivers": "A vulnerability waiver has expired or no longer applies",
    "packages.deny": "A package (or version) that the policy denies",
    "licenses": "A licence that the policy does not allow",
    "licenses.unknown": "A package whose licence could not be determined",
    "sources.indexes": "A package not shown to come from an allowed index",
    "sources.channels": "A conda package from a channel the policy does not allow",
    "sources.forbid": "A package from a kind of source the policy forbids (VCS, URL, path, editable)",
    "sources.require_hashes": "Packages not locked by a sha256 or stronger hash",
    "sources.require_pins": "A requirement not pinned to one version",
    "registry.unpinned": "A requirement the index cannot be asked about, because it is not pinned",
    "registry.missing": "A release the approved index does not serve",
    "registry.forbid_yanked": "A release that was yanked from the index",
    "registry.min_release_age_days": "A release younger than the policy's minimum age",
    "registry.verify_hashes": "A locked hash that the index does not serve for the release",
    "consistency": "An installed package's requirements are not satisfied",
    "drift": "The environment drifted from the approved baseline",
    "drift.added": "A package added since the approved baseline",
    "drift.removed": "A package removed since the approved baseline",
    "drift.changed": "A package changed since the approved baseline",
    "drift.modified_files": "An installed file no longer matches its distribution's RECORD",
}

# What can start a link, an image, an autolink, HTML, a code span or a mention. Emphasis is left
# alone: at worst cosmetic, and escaping every underscore would litter plain-text viewers.
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`\[\]<@])")


def sarif_text(value: object, limit: int | None = None) -> str:
    """One line, with the characters that make links, images, HTML, code spans or mentions escaped."""
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", one_line(str(value), limit))


def artifact_location(place: Place) -> dict[str, str]:
    """A relative path is relative to the checkout (``%SRCROOT%``, what code scanning expects)."""
    if place.path.startswith("/"):
        return {"uri": "file://" + quote(place.path)}
    return {"uri": quote(place.path), "uriBaseId": SRCROOT}


def security_severity(severity: str, score: float | None) -> str | None:
    """The CVSS score when it agrees with the gate's level, else a score in the level's band;
    None for an unknown severity (code scanning then shows the result's level)."""
    if severity == "malicious":
        return "10.0"
    band = _BANDS.get(severity)
    if band is None:
        return None
    if score is not None and band[0] <= score <= band[1] + 0.05:
        return f"{score:.1f}"
    return f"{_SECURITY_SEVERITY[severity]:.1f}"


def _advisory_rule(finding: Mapping[str, Any]) -> dict[str, Any]:
    identifier = str(finding["id"])
    aliases = [str(alias) for alias in finding.get("aliases") or []]
    summary = str(finding.get("summary") or "")
    severity = str(finding["severity"])
    score = finding.get("score")
    named = f"{identifier} ({', '.join(aliases)})" if aliases else identifier
    short = summary or f"Vulnerability {identifier}"
    link = advisory_link(identifier)
    fixed = [str(version) for version in finding.get("fixed_in") or []]
    help_lines = [
        f"**{markdown_text(named)}**: {markdown_text(severity)}"
        + (f" {score:.1f}" if isinstance(score, (int, float)) else ""),
        "",
        markdown_text(summary or "(no summary)", HELP_LIMIT),
        "",
        "Fixed in: " + (", ".join(markdown_text(version) for version in fixed) if fixed else "no fixed version known"),
    ]
    if link is not None:
        help_lines += ["", f"Details: [{markdown_text(identifier)}]({link})"]
    tags = ["security", "vulnerability", "dependency"]
    if severity == "malicious":
        tags.append("malicious")
    properties: dict[str, Any] = {"tags": tags, "precision": "very-high"}
    rank = security_severity(severity, score if isinstance(score, (int, float)) else None)
    if rank is not None:
        properties["security-severity"] = rank
    rule: dict[str, Any] = {
        "id": identifier,
        "shortDescription": {"text": sarif_text(short, DESCRIPTION_LIMIT)},
        "fullDescription": {"text": sarif_text(f"{named}: {short}", DESCRIPTION_LIMIT)},
        "help": {"text": sarif_text(f"{named} ({severity}): {summary} Fixed in: "
                                    f"{', '.join(fixed) if fixed else 'no fixed version known'}.", HELP_LIMIT),
                 "markdown": "\n".join(help_lines)},
        "properties": properties,
    }
    if link is not None:
        rule["helpUri"] = link
    return rule


def _policy_rule(rule_name: str) -> dict[str, Any]:
    description = POLICY_RULES.get(rule_name) or POLICY_RULES.get(rule_name.split(".")[0]) \
        or "A package breaks a rule of the stage policy"
    text = f"{description} (policy rule {rule_name})."
    return {
        "id": f"policy/{rule_name}",
        "shortDescription": {"text": sarif_text(description, DESCRIPTION_LIMIT)},
        "fullDescription": {"text": sarif_text(text, DESCRIPTION_LIMIT)},
        "help": {"text": sarif_text(text, HELP_LIMIT),
                 "markdown": f"{markdown_text(description)} (policy rule `{markdown_text(rule_name)}`): each "
                             "result says how, and the report (report.md) gives the policy's full story."},
        "properties": {"tags": ["policy", "dependency"], "precision": "very-high"},
    }


def _finding_message(finding: Mapping[str, Any]) -> str:
    score = finding.get("score")
    severity = str(finding["severity"]) + (f" {score:.1f}" if isinstance(score, (int, float)) else "")
    version = finding.get("version")
    text = f"{finding['package']} {version if version is not None else '(unpinned)'} is affected by " \
           f"{finding['id']} ({severity})"
    summary = one_line(str(finding.get("summary") or ""), MESSAGE_SUMMARY_LIMIT).rstrip(". ")
    if summary:
        text += f": {summary}"
    fix = finding.get("fix")
    text += f". Upgrade to {fix} or later." if fix else ". No fixed version is known."
    if finding.get("uncertain"):
        text += f" Uncertain match: {finding['uncertain']}."
    waiver = finding.get("waiver")
    if finding["status"] == "waived" and isinstance(waiver, Mapping):
        text += f" Waived until {waiver.get('expires')} ({waiver.get('owner')}): {waiver.get('reason')}."
    return sarif_text(text)


def _violation_message(violation: Mapping[str, Any]) -> str:
    package = violation.get("package")
    who = ""
    if package:
        version = violation.get("version")
        who = f"{package} {version}: " if version is not None else f"{package}: "
    return sarif_text(f"{who}{violation['detail']}")


def _result(rule_id: str, index: int, item: Mapping[str, Any], message: str, place: Place,
            fingerprint: str) -> dict[str, Any]:
    location: dict[str, Any] = {"artifactLocation": artifact_location(place)}
    # Code scanning needs a line; a file without lines (METADATA, the policy) is pointed at as a whole from line 1.
    location["region"] = {"startLine": place.line or 1}
    result: dict[str, Any] = {
        "ruleId": rule_id,
        "ruleIndex": index,
        "level": _LEVEL[str(item["status"])],
        "message": {"text": message},
        "locations": [{"physicalLocation": location}],
        "partialFingerprints": {"primaryLocationLineHash": fingerprint},
    }
    return result


def sarif_document(document: Mapping[str, Any], *, root: str | None = None,
                   base: str | None = None) -> dict[str, Any]:
    """The SARIF log for a result document; ``root`` (the checkout) and ``base`` (where the check
    ran) as in gate.report.locations."""
    rules: list[dict[str, Any]] = []
    index_of: dict[str, int] = {}
    results: list[dict[str, Any]] = []

    def rule_index(rule_id: str, make: Any) -> int:
        if rule_id not in index_of:
            index_of[rule_id] = len(rules)
            rules.append(make())
        return index_of[rule_id]

    for finding in document.get("findings") or []:
        identifier = str(finding["id"])
        index = rule_index(identifier, lambda f=finding: _advisory_rule(f))
        place = item_place(document, finding, root=root, base=base)
        result = _result(identifier, index, finding, _finding_message(finding), place,
                         identity(identifier, finding["package"], place.path))
        result["properties"] = {
            "package": finding["package"], "version": finding.get("version"), "status": finding["status"],
            "severity": finding["severity"], "aliases": list(finding.get("aliases") or []),
            "fix": finding.get("fix"), "summary": finding.get("summary"),
        }
        waiver = finding.get("waiver")
        if finding["status"] == "waived" and isinstance(waiver, Mapping):
            result["suppressions"] = [{
                "kind": "external", "status": "accepted",
                "justification": one_line(f"{waiver.get('reason')} (owner {waiver.get('owner')}, "
                                          f"expires {waiver.get('expires')})", DESCRIPTION_LIMIT),
            }]
            result["properties"]["waiver"] = dict(waiver)
        results.append(result)
    for violation in document.get("violations") or []:
        rule_name = str(violation["rule"])
        rule_id = f"policy/{rule_name}"
        index = rule_index(rule_id, lambda r=rule_name: _policy_rule(r))
        place = item_place(document, violation, root=root, base=base)
        result = _result(rule_id, index, violation, _violation_message(violation), place,
                         identity(rule_id, violation.get("package"), place.path))
        result["properties"] = {
            "package": violation.get("package"), "version": violation.get("version"),
            "status": violation["status"], "detail": violation["detail"],
        }
        results.append(result)

    tool = document.get("tool") or {}
    run: dict[str, Any] = {
        "tool": {"driver": {
            "name": TOOL_NAME,
            "version": str(tool.get("version") or "0"),
            "rules": rules,
        }},
        "results": results,
        "invocations": [{"executionSuccessful": True, "endTimeUtc": document["checked_at"]}],
        "properties": {
            "decision": document["decision"],
            "stage": document.get("stage"),
            "summary": dict(document.get("summary") or {}),
        },
    }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def render_sarif(document: Mapping[str, Any], *, root: str | None = None, base: str | None = None) -> str:
    return dump_json(sarif_document(document, root=root, base=base))
