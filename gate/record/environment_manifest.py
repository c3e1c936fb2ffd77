"""``environment.json``: the venv that was judged, as a file a record can name as its subject.

A lockfile is its own subject; an installed environment is not a file, so the gate writes its
manifest (the same entries ``result.json`` keeps, sorted) as RFC 8785 canonical JSON. Paths and
install times stay out so the same packages give the same bytes on any machine."""

from __future__ import annotations

from typing import Any

import rfc8785

from gate.model import Environment
from gate.report.result import manifest_entry

ENVIRONMENT_JSON = "environment.json"
MANIFEST_VERSION = 1


def manifest_document(environment: Environment) -> dict[str, Any]:
    entries = [manifest_entry(package) for package in environment.packages]
    entries.sort(key=lambda e: (e["ecosystem"], e["name"], e["version"] or "", e["marker"] or ""))
    return {
        "manifest_version": MANIFEST_VERSION,
        "kind": environment.kind,
        "digest": environment.digest,
        "target": {"python": environment.target.python, "platform": environment.target.platform},
        "packages": entries,
    }


def environment_manifest(environment: Environment) -> bytes:
    """The canonical bytes of :func:`manifest_document` (what the record's subject digest covers)."""
    return rfc8785.dumps(manifest_document(environment))
