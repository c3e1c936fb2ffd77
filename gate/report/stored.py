"""A ``result.json`` read back from disk (``gate ci github``, the comment commands): checked
against the shape the renderers rely on before any of them sees it.

The file sits in a CI workspace between two steps, so it is input like any other: a missing
file, bad JSON, a newer ``schema_version`` or a wrong type is an :class:`InputError` naming
the file and the key path (``findings[3].severity``), never a traceback from a renderer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gate.errors import InputError
from gate.report.result import SCHEMA_VERSION

MAX_RESULT_BYTES = 256 * 1024 * 1024  # as for a --baseline result.json

_STRING = {"type": "string"}
_NONEMPTY = {"type": "string", "minLength": 1}
_OPTIONAL_STRING = {"type": ["string", "null"]}
_STATUS = {"enum": ["blocking", "waived", "warning"]}
_COUNT = {"type": "integer", "minimum": 0}

RESULT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["schema_version", "decision", "checked_at", "environment", "policy", "summary", "findings",
                 "violations"],
    "properties": {
        "schema_version": {"const": SCHEMA_VERSION},
        "tool": {"type": "object", "properties": {"version": _STRING}},
        "decision": {"enum": ["pass", "fail"]},
        "checked_at": {"type": "string",
                       "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"},
        "stage": _OPTIONAL_STRING,
        "environment": {"type": "object", "required": ["source", "kind"],
                        "properties": {"source": _STRING, "kind": _STRING}},
        "policy": {"type": "object", "required": ["path"], "properties": {"path": _NONEMPTY}},
        "summary": {"type": "object", "required": ["blocking", "waived", "warnings", "findings", "violations"],
                    "properties": {key: _COUNT for key in ("blocking", "waived", "warnings", "findings",
                                                           "violations")}},
        "findings": {"type": "array", "items": {
            "type": "object",
            "required": ["id", "package", "version", "severity", "status"],
            "properties": {
                "id": _NONEMPTY,
                "aliases": {"type": "array", "items": _NONEMPTY},
                "package": _NONEMPTY,
                "version": _OPTIONAL_STRING,
                "location": _OPTIONAL_STRING,
                "severity": {"enum": ["malicious", "critical", "high", "medium", "low", "unknown"]},
                "score": {"type": ["number", "null"]},
                "vector": _OPTIONAL_STRING,
                "summary": _STRING,
                "fixed_in": {"type": "array", "items": _STRING},
                "fix": _OPTIONAL_STRING,
                "status": _STATUS,
                "uncertain": _OPTIONAL_STRING,
                "waiver": {"type": ["object", "null"]},
            },
        }},
        "violations": {"type": "array", "items": {
            "type": "object",
            "required": ["rule", "detail", "status"],
            "properties": {
                "rule": _NONEMPTY,
                "package": _OPTIONAL_STRING,
                "version": _OPTIONAL_STRING,
                "location": _OPTIONAL_STRING,
                "detail": _STRING,
                "status": _STATUS,
            },
        }},
    },
}


def key_path(parts: Any) -> str:
    """``["findings", 3, "severity"]`` -> ``findings[3].severity``."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def read_result(path: Path) -> dict[str, Any]:
    """The parsed, checked result document at ``path``."""
    from gate.schema_validation import draft_2020_12
    from gate.sources.base import decode_utf8, load_json, read_bounded

    data = read_bounded(path, limit=MAX_RESULT_BYTES)
    if data is None:
        raise InputError("missing: run gate check --out with this directory first", where=path)
    document = load_json(decode_utf8(data, where=path), where=str(path))
    if not isinstance(document, dict):
        raise InputError("not a result.json written by gate check (not a JSON object)", where=path)
    version = document.get("schema_version")
    if isinstance(version, int) and not isinstance(version, bool) and version > SCHEMA_VERSION:
        raise InputError(f"{version} is newer than this gate reads ({SCHEMA_VERSION}): use the gate that wrote it",
                         where=path, key_path="schema_version")
    validator = draft_2020_12()(RESULT_SCHEMA)
    from jsonschema.exceptions import best_match

    problem = best_match(validator.iter_errors(document))
    if problem is not None:
        raise InputError(_message(problem), where=path, key_path=key_path(problem.absolute_path) or None)
    return document


def _message(error: Any) -> str:
    """jsonschema's message without echoing a whole (possibly huge, possibly hostile) value."""
    if error.validator == "required":
        return str(error.message).split(" is a required property")[0] + " is missing"
    if error.validator in ("type", "enum", "const", "pattern", "minLength", "minimum"):
        expected = {"type": f"of type {error.validator_value}", "enum": f"one of {error.validator_value}",
                    "const": f"{error.validator_value!r}", "pattern": "an RFC 3339 timestamp",
                    "minLength": "a non-empty string", "minimum": "a count"}[error.validator]
        return f"not {expected}"
    return str(error.message)[:200]
