"""Keyless signing of the record with Sigstore: a Fulcio certificate for the CI job's OIDC identity, a
Rekor transparency-log entry, and a Sigstore bundle v0.3 (``record.sigstore.json``) beside the envelope.

Why: a compliance officer can then check *which pipeline* signed a decision (the certificate names the
repository, workflow and ref) without anyone holding a long-lived key. The bundle signs the very same
RFC 8785 payload bytes as ``record.dsse.json`` (same DSSE PAE), so both describe one statement.

``sigstore`` is an optional extra (``pip install 'promotion-gate[sigstore]'``) imported only here and only
when keyless signing is asked for: a gate that signs with ``GATE_SIGNING_KEY`` never loads it. The token
comes from ``identity_token``, else ``SIGSTORE_ID_TOKEN`` (GitLab ``id_tokens`` with ``aud: sigstore``
puts it there; any CI can), else GitHub Actions' ambient OIDC (``permissions: id-token: write``). Real
signing needs the network; the parts before it (token, extra, statement bytes, writing) are testable
offline through ``signer_factory``."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from gate.errors import ServiceError, SignatureError
from gate.fileio import write_text_atomic
from gate.record.dsse import PAYLOAD_TYPE, parse_envelope, unverified_payload
from gate.record.statement import statement_payload

if TYPE_CHECKING:
    from sigstore.dsse import Statement

BUNDLE_JSON = "record.sigstore.json"
BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
ID_TOKEN_VARIABLE = "SIGSTORE_ID_TOKEN"
GITHUB_OIDC_VARIABLE = "ACTIONS_ID_TOKEN_REQUEST_URL"
OIDC_AUDIENCE = "sigstore"
EXTRA_MISSING = "keyless signing needs the sigstore extra: pip install 'promotion-gate[sigstore]'"
TOKEN_MISSING = (f"keyless signing needs an OIDC identity token: set {ID_TOKEN_VARIABLE} (GitLab: id_tokens with "
                 f"aud: {OIDC_AUDIENCE}) or run in GitHub Actions with permissions id-token: write")


class SignedBundle(Protocol):
    """What the gate needs of a sigstore ``Bundle``: its JSON."""

    def to_json(self) -> str: ...


class DsseSigner(Protocol):
    """What the gate needs of a sigstore ``Signer``: sign one in-toto statement as DSSE."""

    def sign_dsse(self, input_: Statement) -> SignedBundle: ...


# Given the raw OIDC token, a context holding a signer (sigstore's ``SigningContext.signer`` shape).
SignerFactory = Callable[[str], AbstractContextManager[DsseSigner]]


def sign_keyless(statement: bytes | Mapping[str, Any], *, identity_token: str | None, environ: Mapping[str, str],
                 signer_factory: SignerFactory | None = None, staging: bool = False) -> str:
    """The Sigstore bundle (v0.3 JSON) for ``statement``: the canonical payload bytes, or the statement dict.

    ``signer_factory`` replaces the Sigstore public-good (or ``staging``) instance, for tests; the real one is
    built only when it is None. A missing extra or token is a :class:`SignatureError`; an unreachable
    Sigstore service a :class:`ServiceError`."""
    payload = statement if isinstance(statement, bytes) else statement_payload(dict(statement))
    try:
        from sigstore.dsse import Statement
        from sigstore.errors import Error as SigstoreError
    except ImportError:
        raise SignatureError(EXTRA_MISSING) from None
    token = resolve_identity_token(identity_token, environ)
    try:
        in_toto = Statement(payload)
    except SigstoreError as error:
        raise SignatureError(f"keyless signing: sigstore rejects the statement: {_first_line(error)}") from None
    factory = signer_factory if signer_factory is not None else _public_good(staging=staging)
    with factory(token) as signer:
        bundle = signer.sign_dsse(in_toto)
    return bundle.to_json()


def resolve_identity_token(identity_token: str | None, environ: Mapping[str, str]) -> str:
    """The raw OIDC token: explicit, else ``SIGSTORE_ID_TOKEN``, else GitHub Actions' ambient one."""
    for candidate in (identity_token, environ.get(ID_TOKEN_VARIABLE)):
        if candidate is not None and candidate.strip():
            return candidate.strip()
    if environ.get(GITHUB_OIDC_VARIABLE):
        from sigstore.oidc import IdentityError, detect_credential

        try:
            detected = detect_credential(OIDC_AUDIENCE)
        except IdentityError as error:
            raise SignatureError(f"keyless signing needs an OIDC identity token: GitHub Actions did not issue "
                                 f"one ({_first_line(error)}); the job needs permissions id-token: write") from None
        if detected:
            return detected
    raise SignatureError(TOKEN_MISSING)


def record_payload(envelope_text: str, *, where: str = "record.dsse.json") -> bytes:
    """The payload bytes of the envelope ``make_record`` wrote: what the bundle must sign too."""
    document = parse_envelope(envelope_text.encode("utf-8"), where=where)
    if document.get("payloadType") != PAYLOAD_TYPE:
        raise SignatureError("not an in-toto DSSE envelope", where=where)
    return unverified_payload(document, where=where)


def write_bundle(directory: Path, bundle_json: str) -> Path:
    """Write ``record.sigstore.json`` into ``directory`` (beside ``record.dsse.json``), atomically."""
    path = directory / BUNDLE_JSON
    write_text_atomic(path, bundle_json)
    return path


def _public_good(*, staging: bool) -> SignerFactory:
    """The factory for Sigstore's public-good instance (or staging): trust root over TUF, Fulcio, Rekor."""

    @contextmanager
    def factory(token: str) -> Iterator[DsseSigner]:
        import requests
        from sigstore._internal.fulcio.client import FulcioClientError
        from sigstore._internal.rekor import RekorClientError
        from sigstore.errors import Error as SigstoreError
        from sigstore.models import ClientTrustConfig
        from sigstore.oidc import ExpiredIdentity, IdentityError, IdentityToken
        from sigstore.sign import SigningContext

        try:
            identity = IdentityToken(token, OIDC_AUDIENCE)
        except (IdentityError, ExpiredIdentity) as error:
            raise SignatureError(f"keyless signing: the OIDC identity token is not usable: "
                                 f"{_first_line(error)}") from None
        instance = "staging" if staging else "public-good"
        try:
            config = ClientTrustConfig.staging() if staging else ClientTrustConfig.production()
            context = SigningContext.from_trust_config(config)
            with context.signer(identity, cache=False) as signer:
                yield signer
        except ExpiredIdentity as error:  # it expired between the check above and Fulcio's certificate
            raise SignatureError(f"keyless signing: the OIDC identity token is not usable: "
                                 f"{_first_line(error)}") from None
        except (requests.RequestException, FulcioClientError, RekorClientError, SigstoreError) as error:
            raise ServiceError(f"keyless signing failed: the Sigstore {instance} instance could not be used: "
                               f"{_first_line(error)}") from None

    return factory


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]
