"""The in-toto Statement v1 a record signs: what was judged, under which rules and data, and the outcome.

Everything is plain data derived from the Decision, the subject files' bytes, the CI context and
the two instants of the injected clock, serialised as RFC 8785 canonical JSON: the same inputs
give the same payload bytes, and any JSON library can re-derive them. Integers beyond the IEEE
double range (|n| > 2^53 - 1) become strings, because JCS (and JavaScript readers) cannot hold
them exactly."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import rfc8785

import gate
from gate.clock import format_instant
from gate.model import Decision
from gate.report.result import finding_document, manifest_entry, model_document, violation_document

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://promotion-gate.dev/attestation/decision/v1"
MAX_SAFE_INTEGER = 2**53 - 1


@dataclass(frozen=True, kw_only=True, slots=True)
class Subject:
    """A file the record vouches for: its name in the output (or as given) and its bytes, or its
    sha256 when it was hashed already (a model file, streamed, too large to hold)."""

    name: str
    data: bytes = b""
    digest: str | None = None  # hex sha256, when the bytes are not held

    @property
    def sha256(self) -> str:
        return self.digest if self.digest is not None else hashlib.sha256(self.data).hexdigest()


def build_statement(decision: Decision, *, subjects: Sequence[Subject], ci: Mapping[str, str],
                    started_at: dt.datetime, finished_at: dt.datetime) -> dict[str, Any]:
    environment = decision.environment
    database = decision.database
    waivers = {}
    for finding in decision.findings:
        if finding.waiver is not None:
            w = finding.waiver
            waivers[(w.id, w.package or "")] = {"id": w.id, "package": w.package, "reason": w.reason,
                                                "owner": w.owner, "expires": w.expires.isoformat()}
    predicate = {
        "gate": {"name": "promotion-gate", "version": gate.__version__},
        "decision": decision.verdict.value,
        "checked_at": format_instant(decision.checked_at),
        "started_at": format_instant(started_at),
        "finished_at": format_instant(finished_at),
        "policy": {"path": decision.policy.path, "digest": decision.policy.digest, "stage": decision.policy.stage,
                   "effective": decision.policy.effective},
        "advisory_db": None if database is None else {
            "source": database.source, "digest": database.digest, "records": database.records,
            "newest_modified": database.newest_modified, "imported_at": database.imported_at,
        },
        "environment": {
            "source": environment.source,
            "kind": environment.kind,
            "digest": environment.digest,
            "target": {"python": environment.target.python, "platform": environment.target.platform},
            "manifest": [manifest_entry(package) for package in environment.packages],
        },
        "findings": [finding_document(f) for f in decision.findings],
        "violations": [violation_document(v) for v in decision.violations],
        "waivers": [waivers[key] for key in sorted(waivers)],
        "models": [model_document(model) for model in decision.models],
        "notes": list(decision.notes),
        "ci": dict(sorted(ci.items())),
    }
    by_name: dict[str, str] = {}
    for subject in subjects:
        by_name[subject.name] = subject.sha256
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": name, "digest": {"sha256": by_name[name]}} for name in sorted(by_name)],
        "predicateType": PREDICATE_TYPE,
        "predicate": json_safe(predicate),
    }


def json_safe(value: Any) -> Any:
    """``value`` with integers outside ±(2^53 - 1) as decimal strings (recursively)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return str(value) if abs(value) > MAX_SAFE_INTEGER else value
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    return value


def statement_payload(statement: dict[str, Any]) -> bytes:
    """The RFC 8785 canonical bytes that the envelope carries and the signature covers."""
    return canonical_bytes(statement)


def canonical_bytes(value: Any) -> bytes:
    """``rfc8785.dumps(value)``, several times faster for the values records hold.

    Python's sorted, compact JSON (``ensure_ascii=False``) is byte for byte RFC 8785 unless the value
    holds a float whose shortest form is not ECMAScript's (``10.0``, ``1e-07``, ``-0.0``), an integer
    beyond ±(2^53 - 1), or an object key with a character outside the BMP (UTF-16 order differs from
    code point order there). :func:`_plain` rules those out in one walk and the C encoder writes the
    bytes; anything else goes to ``rfc8785``."""
    if _plain(value):
        fast = _python_form(value)
        if fast is not None:
            return fast
    return rfc8785.dumps(value)


def load_canonical(payload: bytes) -> tuple[Any, bool]:
    """Parse ``payload`` and say whether it is RFC 8785 canonical JSON (``gate verify``, ``inventory add``).

    The parser's hooks see every number as written: a float Python would write otherwise (an exponent,
    a ``.0`` ending, a small number written out in full), or an integer of 16 digits or more, is where
    Python and RFC 8785 may differ; with none of them and no
    4-byte UTF-8 sequence (a key outside the BMP), comparing with Python's own form is exact and
    takes no walk. Otherwise ``rfc8785`` decides. ``json.JSONDecodeError``/``UnicodeDecodeError``
    propagate."""
    doubtful: list[str] = []

    def parse_float(text: str) -> float:
        number = float(text)
        # An exponent or a ".0" (Python keeps them, RFC 8785 does not), or a form Python would not
        # write (2.2e-05 written out in full, as RFC 8785 does): there the two forms may differ.
        if "e" in text or "E" in text or text.endswith(".0") or repr(number) != text:
            doubtful.append(text)
        return number

    def parse_int(text: str) -> int:
        if len(text) > 15:
            doubtful.append(text)
        return int(text)

    value = json.loads(payload, parse_float=parse_float, parse_int=parse_int)
    if not doubtful and not _ASTRAL.search(payload):
        fast = _python_form(value)
        if fast is not None:
            return value, fast == payload
    try:
        return value, rfc8785.dumps(value) == payload
    except (rfc8785.CanonicalizationError, ValueError, UnicodeEncodeError):
        return value, False


_ASTRAL = re.compile(rb"[\xf0-\xf7]")


def _python_form(value: Any) -> bytes | None:
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                          allow_nan=False).encode("utf-8")
    except (ValueError, TypeError, UnicodeEncodeError):
        return None  # NaN, a lone surrogate, a non-JSON type: rfc8785 says what is wrong


def _plain(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str or kind is bool or item is None:
            continue
        if kind is dict:
            for key in item:
                if type(key) is not str or (not key.isascii() and max(key) > "\uffff"):
                    return False
            stack.extend(item.values())
        elif kind is list:
            stack.extend(item)
        elif kind is int:
            if abs(item) > MAX_SAFE_INTEGER:
                return False
        elif kind is float:
            text = repr(item)
            if "e" in text or text.endswith(".0") or "n" in text:
                return False
        else:
            return False
    return True
