"""Ed25519 keys: the signing key from ``GATE_SIGNING_KEY``, pinned public keys from PEM files.

The keyid is the hex sha256 of the DER SubjectPublicKeyInfo, so anyone can recompute it with
``openssl pkey -pubin -in pub.pem -outform DER | sha256sum`` and no gate-specific format is
needed. The private key is never printed, logged or written anywhere but ``gate keygen``'s own
file (mode 0600); errors name the variable or file, never the key material."""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from gate.errors import SignatureError
from gate.fileio import write_atomic

SIGNING_KEY_VARIABLE = "GATE_SIGNING_KEY"
PRIVATE_KEY_FILE = "gate-signing-key.pem"
PUBLIC_KEY_FILE = "gate-signing-key.pub.pem"
_PEM_MARK = b"-----BEGIN"
MAX_KEY_FILE_BYTES = 64 * 1024


@dataclass(frozen=True, kw_only=True, slots=True)
class PublicKey:
    """A pinned verification key and where it came from (for messages)."""

    keyid: str
    key: Ed25519PublicKey
    origin: str


@dataclass(frozen=True, kw_only=True, slots=True)
class SigningKey:
    keyid: str
    key: Ed25519PrivateKey


def key_id(public: Ed25519PublicKey) -> str:
    """Hex sha256 of the DER SubjectPublicKeyInfo (openssl's ``-outform DER``)."""
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def load_signing_key(environ: Mapping[str, str]) -> SigningKey | None:
    """The key ``GATE_SIGNING_KEY`` holds (PEM text, base64 of the PEM, or a file path); None when unset."""
    value = environ.get(SIGNING_KEY_VARIABLE, "").strip()
    if not value:
        return None
    pem = _pem_from_variable(value)
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):
        raise SignatureError("not an unencrypted PEM private key", where=SIGNING_KEY_VARIABLE) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SignatureError("the signing key is not an Ed25519 key", where=SIGNING_KEY_VARIABLE)
    return SigningKey(keyid=key_id(key.public_key()), key=key)


def _pem_from_variable(value: str) -> bytes:
    if value.encode("utf-8").lstrip().startswith(_PEM_MARK):
        return value.encode("utf-8")
    try:
        is_file = len(value) < 4096 and Path(value).is_file()
    except OSError:
        is_file = False
    if is_file:
        return _read_key_file(Path(value), where=SIGNING_KEY_VARIABLE)
    try:
        decoded = base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        decoded = b""
    if decoded.lstrip().startswith(_PEM_MARK):
        return decoded
    raise SignatureError("neither PEM text, base64 of a PEM, nor the path of a key file", where=SIGNING_KEY_VARIABLE)


def _read_key_file(path: Path, *, where: str | Path) -> bytes:
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_KEY_FILE_BYTES + 1)
    except OSError as error:
        raise SignatureError(f"cannot read key file: {error.strerror}", where=where) from None
    if len(data) > MAX_KEY_FILE_BYTES:
        raise SignatureError(f"key file is larger than {MAX_KEY_FILE_BYTES} bytes", where=where)
    return data


def load_public_key(path: Path) -> PublicKey:
    """A pinned Ed25519 public key from a PEM file."""
    data = _read_key_file(path, where=path)
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError):
        raise SignatureError("not a PEM public key", where=path) from None
    if not isinstance(key, Ed25519PublicKey):
        raise SignatureError("not an Ed25519 public key", where=path)
    return PublicKey(keyid=key_id(key), key=key, origin=str(path))


def generate_keypair(directory: Path) -> tuple[Path, Path, str]:
    """Write a new private key (mode 0600) and its public key into ``directory``; refuse to overwrite.

    Returns (private path, public path, keyid)."""
    private_path = directory / PRIVATE_KEY_FILE
    public_path = directory / PUBLIC_KEY_FILE
    for path in (private_path, public_path):
        if path.exists():
            raise SignatureError("already exists; not overwriting a key", where=path)
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    directory.mkdir(parents=True, exist_ok=True)
    write_atomic(private_path, private_pem, mode=0o600)  # private from its first byte
    write_atomic(public_path, public_pem, mode=0o644)
    return private_path, public_path, key_id(key.public_key())
