"""The signed audit record: an in-toto statement of the decision in a DSSE envelope, and its checks.

``gate check`` calls :func:`make_record`; ``gate verify`` :func:`verify_record`; ``gate replay``
:func:`replay`; ``gate keygen`` :func:`generate_keypair`. The OpenSSL-only way to verify a
record is in ``docs/record.md``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from gate.errors import SignatureError
from gate.fileio import dump_json
from gate.model import Decision
from gate.record.ci import ci_context
from gate.record.dsse import PAYLOAD_TYPE, envelope, pae, unverified_payload, verify_envelope
from gate.record.environment_manifest import ENVIRONMENT_JSON, environment_manifest
from gate.record.keys import (
    SIGNING_KEY_VARIABLE,
    PublicKey,
    SigningKey,
    generate_keypair,
    key_id,
    load_public_key,
    load_signing_key,
)
from gate.record.replay import RecordedCheck, Reevaluation, ReplayResult, recorded_check, reevaluate, replay
from gate.record.statement import PREDICATE_TYPE, STATEMENT_TYPE, Subject, build_statement, statement_payload
from gate.record.verify import VerifiedRecord, decode_statement, read_record, verify_record

RECORD_JSON = "record.dsse.json"
UNSIGNED_NOTE = (f"the record is unsigned: {SIGNING_KEY_VARIABLE} is not set "
                 "(set record.require_signature in the policy to make this a no-verdict)")


@dataclass(frozen=True, kw_only=True, slots=True)
class Record:
    text: str  # the envelope, as written to record.dsse.json
    keyid: str | None  # None: unsigned
    note: str | None  # what the run should say about the record (unsigned)


def make_record(decision: Decision, *, subjects: Sequence[Subject], environ: Mapping[str, str],
                started_at: dt.datetime, finished_at: dt.datetime, require_signature: bool) -> Record:
    """The envelope for ``decision``; a :class:`SignatureError` when a signature is required and no key is set."""
    key = load_signing_key(environ)
    if key is None and require_signature:
        raise SignatureError(f"the policy requires a signed record (record.require_signature) and "
                             f"{SIGNING_KEY_VARIABLE} is not set", where=decision.policy.path)
    statement = build_statement(decision, subjects=subjects, ci=ci_context(environ), started_at=started_at,
                                finished_at=finished_at)
    document = envelope(statement_payload(statement), key)
    return Record(text=dump_json(document), keyid=None if key is None else key.keyid,
                  note=None if key is not None else UNSIGNED_NOTE)


__all__ = [
    "ENVIRONMENT_JSON",
    "PAYLOAD_TYPE",
    "PREDICATE_TYPE",
    "RECORD_JSON",
    "SIGNING_KEY_VARIABLE",
    "STATEMENT_TYPE",
    "PublicKey",
    "Record",
    "RecordedCheck",
    "Reevaluation",
    "ReplayResult",
    "SigningKey",
    "Subject",
    "VerifiedRecord",
    "build_statement",
    "ci_context",
    "decode_statement",
    "envelope",
    "environment_manifest",
    "generate_keypair",
    "key_id",
    "load_public_key",
    "load_signing_key",
    "make_record",
    "pae",
    "read_record",
    "recorded_check",
    "reevaluate",
    "replay",
    "statement_payload",
    "unverified_payload",
    "verify_envelope",
    "verify_record",
]


