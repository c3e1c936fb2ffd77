"""``gate verify``: is this record signed by a pinned key, is it ours, and does it vouch for these files?

"Invalid" (any failed check: a :class:`SignatureError` with a one-line reason, exit 5) is kept
apart from "valid, and the recorded decision was fail" (exit 1), so a pipeline can tell a forged
record from an honest refusal."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gate.errors import SignatureError
from gate.record.dsse import parse_envelope, verify_envelope
from gate.record.keys import PublicKey
from gate.record.statement import PREDICATE_TYPE, STATEMENT_TYPE, load_canonical

MAX_RECORD_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True, kw_only=True, slots=True)
class VerifiedRecord:
    keyid: str  # the pinned key that verified the signature
    decision: str  # "pass" or "fail"
    policy: dict[str, Any]  # path, digest, stage
    checked_at: str
    ci: dict[str, Any]
    subjects: tuple[tuple[str, str], ...]  # (name, sha256), as recorded
    statement: dict[str, Any]
    payload: bytes = b""  # the verified statement bytes (what the signature covers)
    signatures: tuple[dict[str, Any], ...] = ()  # the envelope's signature list, as read

    @property
    def passed(self) -> bool:
        return self.decision == "pass"


def read_record(path: Path) -> dict[str, Any]:
    """The envelope in ``path`` as JSON (bounded read; one-line errors naming the file)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_RECORD_BYTES + 1)
    except OSError as error:
        raise SignatureError(f"cannot read record: {error.strerror}", where=path) from None
    if len(data) > MAX_RECORD_BYTES:
        raise SignatureError(f"record is larger than {MAX_RECORD_BYTES} bytes", where=path)
    return parse_envelope(data, where=str(path))


def decode_statement(payload: bytes, *, where: str) -> dict[str, Any]:
    """The in-toto statement in ``payload``, checked for type, predicate type and canonical form."""
    try:
        statement, canonical = load_canonical(payload)
    except (UnicodeDecodeError, RecursionError, ValueError):  # JSONDecodeError is a ValueError
        raise SignatureError("payload is not JSON", where=where) from None
    if not isinstance(statement, dict):
        raise SignatureError("payload is not a JSON object", where=where)
    if statement.get("_type") != STATEMENT_TYPE:
        raise SignatureError(f"_type is {statement.get('_type')!r}, expected {STATEMENT_TYPE!r}", where=where)
    if statement.get("predicateType") != PREDICATE_TYPE:
        raise SignatureError(f"predicateType is {statement.get('predicateType')!r}, expected {PREDICATE_TYPE!r}",
                             where=where)
    if not canonical:
        raise SignatureError("payload is not RFC 8785 canonical JSON", where=where)
    predicate = statement.get("predicate")
    if not isinstance(predicate, dict) or predicate.get("decision") not in ("pass", "fail"):
        raise SignatureError("predicate.decision is missing or not pass/fail", where=where)
    subjects = statement.get("subject")
    if not isinstance(subjects, list) or not all(
            isinstance(s, dict) and isinstance(s.get("name"), str) and isinstance(s.get("digest"), dict)
            and isinstance(s["digest"].get("sha256"), str) for s in subjects):
        raise SignatureError("subject is not a list of {name, digest: {sha256}}", where=where)
    return statement


def verify_record(path: Path, keys: Sequence[PublicKey], *, subjects: Sequence[Path] = ()) -> VerifiedRecord:
    """Check the record at ``path`` against pinned ``keys`` and that each of ``subjects`` is one of its subjects."""
    where = str(path)
    envelope = read_record(path)
    verified = verify_envelope(envelope, keys, where=where)
    statement = decode_statement(verified.payload, where=where)
    recorded = tuple((s["name"], s["digest"]["sha256"].lower()) for s in statement["subject"])
    digests = {digest for _, digest in recorded}
    for subject in subjects:
        try:
            with open(subject, "rb") as handle:  # streamed: a subject may be a gigabyte model file
                digest = hashlib.file_digest(handle, "sha256").hexdigest()
        except OSError as error:
            raise SignatureError(f"cannot read subject: {error.strerror}", where=subject) from None
        if digest not in digests:
            raise SignatureError(f"sha256 {digest} is not a subject of the record {path}", where=subject)
    predicate = statement["predicate"]
    policy = predicate.get("policy") if isinstance(predicate.get("policy"), dict) else {}
    return VerifiedRecord(
        keyid=verified.keyid,
        decision=predicate["decision"],
        policy={key: policy.get(key) for key in ("path", "digest", "stage")},
        checked_at=str(predicate.get("checked_at")),
        ci=predicate.get("ci") if isinstance(predicate.get("ci"), dict) else {},
        subjects=recorded,
        statement=statement,
        payload=verified.payload,
        signatures=tuple(envelope["signatures"]),
    )
