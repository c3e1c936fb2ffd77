"""A real decision (example advisories, a hashed requirements file), signed; and the mutations."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gate.model import Decision
from gate.record import Subject, make_record
from gate.record.keys import SigningKey, key_id
from tests.conftest import ASSETS

NOW = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)
H = "a" * 64
REQUIREMENTS = (
    f"requests==2.31.0 --hash=sha256:{H}\n"
    f"urllib3==1.26.17 --hash=sha256:{'b' * 64}\n"
    f"jinja2==3.1.2 --hash=sha256:{'c' * 64}\n"
)


def write_inputs(tmp_path: Path) -> tuple[Path, Path]:
    lockfile = tmp_path / "requirements.txt"
    lockfile.write_text(REQUIREMENTS)
    policy = tmp_path / "policy.yml"
    policy.write_text(f"extends: {ASSETS / 'example' / 'policy.yml'}\nlicenses: null\n")
    return lockfile, policy


def decide(lockfile: Path, policy_path: Path, db: Path) -> Decision:
    from gate.advisories import AdvisoryDatabase
    from gate.policy import load_policy
    from gate.policy.evaluate import evaluate
    from gate.sources import read_lockfiles

    policy = load_policy(policy_path)
    environment = read_lockfiles([lockfile], target=policy.target)
    with AdvisoryDatabase.open(db) as database:
        matches = database.matches(environment.packages)
        info = database.info
    return evaluate(environment=environment, policy=policy, matches=matches, database=info, now=NOW)


def new_key() -> SigningKey:
    key = Ed25519PrivateKey.generate()
    return SigningKey(keyid=key_id(key.public_key()), key=key)


def signed_record(decision: Decision, subjects: list[Subject], key: SigningKey | None,
                  environ: dict[str, str] | None = None) -> dict[str, Any]:
    from cryptography.hazmat.primitives import serialization

    env = dict(environ or {})
    if key is not None:
        env["GATE_SIGNING_KEY"] = key.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                        serialization.NoEncryption()).decode()
    record = make_record(decision, subjects=subjects, environ=env, started_at=NOW, finished_at=NOW,
                         require_signature=False)
    document: dict[str, Any] = json.loads(record.text)
    return document


def _payload(document: dict[str, Any]) -> bytes:
    return base64.b64decode(document["payload"])


def _with_payload(document: dict[str, Any], payload: bytes) -> dict[str, Any]:
    return {**document, "payload": base64.b64encode(payload).decode()}


def _with_sig(document: dict[str, Any], sig: bytes) -> dict[str, Any]:
    first = {**document["signatures"][0], "sig": base64.b64encode(sig).decode()}
    return {**document, "signatures": [first]}


def _flip_payload(document: dict[str, Any]) -> dict[str, Any]:
    payload = bytearray(_payload(document))
    payload[len(payload) // 2] ^= 0x01
    return _with_payload(document, bytes(payload))


def _edit_decision(document: dict[str, Any]) -> dict[str, Any]:
    payload = _payload(document)
    assert b'"decision":"fail"' in payload
    return _with_payload(document, payload.replace(b'"decision":"fail"', b'"decision":"pass"'))


def _reindent(document: dict[str, Any]) -> dict[str, Any]:
    return _with_payload(document, json.dumps(json.loads(_payload(document)), indent=2).encode())


def _flip_signature(document: dict[str, Any]) -> dict[str, Any]:
    sig = bytearray(base64.b64decode(document["signatures"][0]["sig"]))
    sig[10] ^= 0x80
    return _with_sig(document, bytes(sig))


def _truncate_signature(document: dict[str, Any]) -> dict[str, Any]:
    return _with_sig(document, base64.b64decode(document["signatures"][0]["sig"])[:-8])


def _payload_type(document: dict[str, Any]) -> dict[str, Any]:
    return {**document, "payloadType": "application/json"}


def _untrusted_key(document: dict[str, Any]) -> dict[str, Any]:
    from gate.record.dsse import pae

    rogue = new_key()
    payload = _payload(document)
    sig = rogue.key.sign(pae(document["payloadType"], payload))
    return {**document, "signatures": [{"keyid": document["signatures"][0]["keyid"],  # forged: the trusted keyid
                                        "sig": base64.b64encode(sig).decode()}]}


def _no_signatures(document: dict[str, Any]) -> dict[str, Any]:
    return {**document, "signatures": []}


MUTATIONS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "flipped payload bit": _flip_payload,
    "decision edited": _edit_decision,
    "payload re-indented": _reindent,
    "flipped signature": _flip_signature,
    "truncated signature": _truncate_signature,
    "changed payloadType": _payload_type,
    "untrusted key, forged keyid": _untrusted_key,
    "empty signature list": _no_signatures,
}
