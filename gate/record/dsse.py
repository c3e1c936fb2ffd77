"""DSSE envelopes (https://github.com/secure-systems-lab/dsse, protocol v1) signed with Ed25519.

The signature covers PAE(payloadType, payload), the exact payload bytes: a re-indented or
re-encoded payload is a different message and fails. Verification tries every pinned key for
every signature, because the keyid is unauthenticated (only a hint); it passes when at least
one signature verifies under a pinned key."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature

from gate.errors import SignatureError
from gate.record.keys import PublicKey, SigningKey

PAYLOAD_TYPE = "application/vnd.in-toto+json"
ED25519_SIGNATURE_BYTES = 64


def pae(payload_type: str, payload: bytes) -> bytes:
    """Pre-Authentication Encoding: ``DSSEv1 SP len(type) SP type SP len(body) SP body`` (lengths in bytes)."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(kind), kind, len(payload), payload)


def envelope(payload: bytes, key: SigningKey | None, *, payload_type: str = PAYLOAD_TYPE) -> dict[str, Any]:
    """The envelope for ``payload``; signed by ``key``, or with no signature when ``key`` is None."""
    signatures = []
    if key is not None:
        signature = key.key.sign(pae(payload_type, payload))
        signatures.append({"keyid": key.keyid, "sig": base64.b64encode(signature).decode("ascii")})
    return {"payload": base64.b64encode(payload).decode("ascii"), "payloadType": payload_type,
            "signatures": signatures}


@dataclass(frozen=True, kw_only=True, slots=True)
class Verified:
    payload: bytes
    keyid: str  # the pinned key that verified it (not the envelope's claim)
    origin: str


def parse_envelope(data: bytes, *, where: str) -> dict[str, Any]:
    try:
        document = json.loads(data)
    except (ValueError, RecursionError):  # JSONDecodeError, UnicodeDecodeError, an integer too long to convert
        raise SignatureError("not a JSON DSSE envelope", where=where) from None
    if not isinstance(document, dict):
        raise SignatureError("not a JSON DSSE envelope", where=where)
    return document


def verify_envelope(document: dict[str, Any], keys: Sequence[PublicKey], *, where: str,
                    payload_type: str = PAYLOAD_TYPE) -> Verified:
    """The payload of ``document`` if a signature verifies under one of ``keys``; else :class:`SignatureError`."""
    if not keys:
        raise SignatureError("no public key given to verify with", where=where)
    kind = document.get("payloadType")
    if kind != payload_type:
        raise SignatureError(f"payloadType is {kind!r}, expected {payload_type!r}", where=where)
    payload = _b64(document.get("payload"), "payload", where)
    signatures = document.get("signatures")
    if not isinstance(signatures, list):
        raise SignatureError("signatures is not a list", where=where)
    if not signatures:
        raise SignatureError("the record is not signed (empty signature list)", where=where)
    message = pae(payload_type, payload)
    for index, entry in enumerate(signatures):
        if not isinstance(entry, dict):
            raise SignatureError(f"signatures[{index}] is not an object", where=where)
        signature = _b64(entry.get("sig"), f"signatures[{index}].sig", where)
        if len(signature) != ED25519_SIGNATURE_BYTES:
            continue  # a truncated or padded signature cannot verify; another one still might
        hinted = sorted(keys, key=lambda k: k.keyid != entry.get("keyid"))  # the hinted key first
        for key in hinted:
            try:
                key.key.verify(signature, message)
            except InvalidSignature:
                continue
            return Verified(payload=payload, keyid=key.keyid, origin=key.origin)
    raise SignatureError(f"no signature verifies under the {len(keys)} pinned key(s)", where=where)


def _b64(value: object, name: str, where: str) -> bytes:
    if not isinstance(value, str):
        raise SignatureError(f"{name} is missing or not a string", where=where)
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError(f"{name} is not valid base64", where=where) from None


def unverified_payload(document: dict[str, Any], *, where: str) -> bytes:
    """The payload bytes without checking any signature (``gate replay`` without ``--key``; it says so)."""
    return _b64(document.get("payload"), "payload", where)
