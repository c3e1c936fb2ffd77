"""What ``gate monitor`` judges: each inventory environment's newest record, record files, or CycloneDX SBOMs.

A record file is verified against ``--key`` when keys are given (the same check as ``gate verify``), and
said not to be otherwise, as ``gate replay`` does. An SBOM carries no policy and no decision: it is judged
by ``--policy``, and the vulnerabilities it lists (the gate's own SBOM lists every finding with its
status) stand for the recorded findings; an SBOM that lists none makes every finding new."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from packaging.utils import canonicalize_name

from gate.clock import parse_instant
from gate.inventory.store import Inventory
from gate.monitor.core import Subject
from gate.policy import Policy, policy_from_effective
from gate.record.keys import PublicKey
from gate.record.replay import NOT_REPLAYED, RecordedCheck, recorded_check
from gate.sources.lockfile import read_sample


def from_inventory(inventory: Inventory) -> Iterator[Subject]:
    """Each environment's newest record, one at a time (a run over thousands never holds them all)."""
    policies: dict[str, Policy] = {}
    for stored in inventory.newest_records():
        where = f"{inventory.where}#{stored.digest}"
        recorded = recorded_check(stored.statement, where=where, policies=policies)
        yield Subject(repository=stored.identity.repository, stage=stored.identity.stage,
                      name=stored.identity.name, commit=stored.commit, record=stored.digest, recorded=recorded)


def is_record(path: Path) -> bool:
    """A DSSE envelope (told by content: a JSON object with ``payloadType``), not an SBOM.

    The first and the last 64 kB are looked at (:func:`read_sample`): the gate writes sorted keys,
    so ``payloadType`` follows the base64 payload, which for an environment of a hundred packages
    is already longer than that. A file that cannot be read is not a record; the SBOM reader then
    says why it cannot be read."""
    sample = read_sample(path)
    return (sample is not None and sample.lstrip().startswith("{") and '"payloadType"' in sample
            and '"bomFormat"' not in sample)


def from_record(path: Path, keys: Sequence[PublicKey]) -> tuple[Subject, str | None]:
    """The subject for a record file, and a note when its signature was not checked."""
    from gate.record import decode_statement, read_record, unverified_payload, verify_envelope

    where = str(path)
    document = read_record(path)
    if keys:
        payload = verify_envelope(document, keys, where=where).payload
        note = None
    else:
        payload = unverified_payload(document, where=where)
        note = f"{path}: the record's signature was not checked (give --key to check it)"
    statement = decode_statement(payload, where=where)
    predicate = statement["predicate"]
    ci = predicate.get("ci") if isinstance(predicate.get("ci"), dict) else {}
    recorded = recorded_check(statement, where=where)
    return Subject(repository=str(ci.get("repository") or ""), stage=recorded.stage or "",
                   name=_source(predicate, path),
                   commit=ci.get("commit"), record=str(path), recorded=recorded), note


def _source(predicate: dict[str, Any], path: Path) -> str:
    environment = predicate.get("environment")
    source = environment.get("source") if isinstance(environment, dict) else None
    return source if isinstance(source, str) and source else str(path)


def from_sbom(path: Path, policy: Policy, *, now: dt.datetime) -> Subject:
    """An SBOM judged by ``policy``; its listed vulnerabilities are what was known before."""
    from gate.sources import read_lockfiles

    environment = read_lockfiles([path], target=policy.target)
    document = json.loads(path.read_bytes())
    replayable = {key: value for key, value in policy.effective.items() if key not in NOT_REPLAYED}
    judged = policy_from_effective(replayable, path=policy.path)
    metadata = _dict(document.get("metadata"))
    try:
        checked_at = parse_instant(str(metadata["timestamp"]))
    except (KeyError, ValueError):
        checked_at = now
    vulnerabilities = document.get("vulnerabilities")
    waivers = (policy.effective.get("vulnerabilities") or {}).get("waivers") or []
    recorded = RecordedCheck(
        environment=environment, environment_digest=environment.digest, policy=judged, stage=policy.stage,
        checked_at=checked_at, verdict="unknown", db_digest=None,
        findings=tuple(_sbom_findings(vulnerabilities if isinstance(vulnerabilities, list) else [])),
        violations=(), carried=(), waivers=tuple(w for w in waivers if isinstance(w, dict)))
    component_name = _dict(metadata.get("component")).get("name")
    name = component_name if isinstance(component_name, str) and component_name else str(path)
    return Subject(repository="", stage=policy.stage or "", name=name, commit=None, record=str(path),
                   recorded=recorded)


def _sbom_findings(vulnerabilities: list[Any]) -> list[dict[str, Any]]:
    """Finding-shaped entries (id, aliases, package, version, status) of an SBOM's ``vulnerabilities``."""
    findings = []
    for vulnerability in vulnerabilities:
        if not isinstance(vulnerability, dict) or not isinstance(vulnerability.get("id"), str):
            continue
        references = _list(vulnerability.get("references"))
        aliases = sorted({r["id"] for r in references if isinstance(r, dict) and isinstance(r.get("id"), str)})
        properties = _list(vulnerability.get("properties"))
        status = next((p.get("value") for p in properties if isinstance(p, dict) and p.get("name") == "gate:status"),
                      None)
        affects = _list(vulnerability.get("affects"))
        for target in affects:
            ref = target.get("ref") if isinstance(target, dict) else None
            package = _purl_package(ref) if isinstance(ref, str) else None
            if package is not None:
                findings.append({"id": vulnerability["id"], "aliases": aliases, "package": package[0],
                                 "version": package[1], "status": status, "fix": None})
    return findings


def _purl_package(purl: str) -> tuple[str, str | None] | None:
    """(normalised name, version) of ``pkg:pypi/NAME@VERSION`` (qualifiers and numbering dropped)."""
    if not purl.startswith("pkg:pypi/"):
        return None
    body = purl[len("pkg:pypi/"):].split("?", 1)[0].split("#", 1)[0]
    name, _, version = body.partition("@")
    return canonicalize_name(unquote(name)), unquote(version) or None


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []
