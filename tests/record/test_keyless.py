"""Keyless (Sigstore) signing, offline: token resolution, the missing extra, the statement bytes handed to
sigstore, the bundle's place beside the envelope, and the error mapping before any network call.

Real signing (Fulcio certificate, Rekor entry) needs the network and an OIDC token: not tested here."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from gate.cli import cli
from gate.errors import ServiceError, SignatureError
from gate.record import RECORD_JSON, Subject, make_record
from gate.record.dsse import PAYLOAD_TYPE, pae
from gate.record.keyless import (
    BUNDLE_JSON,
    BUNDLE_MEDIA_TYPE,
    DsseSigner,
    record_payload,
    resolve_identity_token,
    sign_keyless,
    write_bundle,
)
from tests.conftest import REPO, Run
from tests.record.helpers import NOW, decide, write_inputs

pytest.importorskip("sigstore")

from sigstore.dsse import Statement  # after the skip: sigstore is an optional extra

TOKEN_MESSAGE = ("keyless signing needs an OIDC identity token: set SIGSTORE_ID_TOKEN (GitLab: id_tokens with "
                 "aud: sigstore) or run in GitHub Actions with permissions id-token: write")
EXTRA_MESSAGE = "keyless signing needs the sigstore extra: pip install 'promotion-gate[sigstore]'"
FAKE_BUNDLE = json.dumps({"mediaType": BUNDLE_MEDIA_TYPE, "fake": True})


class FakeBundle:
    def to_json(self) -> str:
        return FAKE_BUNDLE


class FakeSigner:
    def __init__(self) -> None:
        self.statements: list[Statement] = []

    def sign_dsse(self, input_: Statement) -> FakeBundle:
        self.statements.append(input_)
        return FakeBundle()


class FakeFactory:
    """Stands in for SigningContext.signer: records the token and what was signed; no network."""

    def __init__(self) -> None:
        self.tokens: list[str] = []
        self.signer = FakeSigner()

    @contextmanager
    def __call__(self, token: str) -> Iterator[DsseSigner]:
        self.tokens.append(token)
        yield self.signer


@pytest.fixture
def record_text(tmp_path: Path, example_db: Path) -> str:
    lockfile, policy = write_inputs(tmp_path)
    decision = decide(lockfile, policy, example_db)
    subjects = [Subject(name=str(lockfile), data=lockfile.read_bytes())]
    return make_record(decision, subjects=subjects, environ={}, started_at=NOW, finished_at=NOW,
                       require_signature=False).text


def test_missing_token_is_a_signature_error() -> None:
    with pytest.raises(SignatureError) as caught:
        sign_keyless(b"{}", identity_token=None, environ={}, signer_factory=FakeFactory())
    assert caught.value.message == TOKEN_MESSAGE
    assert str(caught.value) == TOKEN_MESSAGE


def test_blank_token_variable_counts_as_missing() -> None:
    with pytest.raises(SignatureError, match="needs an OIDC identity token"):
        resolve_identity_token(None, {"SIGSTORE_ID_TOKEN": "  \n"})


def test_missing_extra_is_a_signature_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [name for name in sys.modules if name == "sigstore" or name.startswith("sigstore.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "sigstore", None)  # makes `import sigstore...` raise ImportError
    with pytest.raises(SignatureError) as caught:
        sign_keyless(b"{}", identity_token="token", environ={}, signer_factory=FakeFactory())
    assert caught.value.message == EXTRA_MESSAGE


def test_sigstore_signs_the_envelope_payload(record_text: str) -> None:
    payload = record_payload(record_text)
    factory = FakeFactory()
    bundle = sign_keyless(payload, identity_token=None, environ={"SIGSTORE_ID_TOKEN": "gitlab-token\n"},
                          signer_factory=factory)
    assert bundle == FAKE_BUNDLE
    assert factory.tokens == ["gitlab-token"]
    (statement,) = factory.signer.statements
    assert statement._contents == payload  # the exact canonical bytes of record.dsse.json's payload
    assert statement._pae() == pae(PAYLOAD_TYPE, payload)  # so both signatures cover the same message


def test_a_statement_dict_gives_the_same_bytes(record_text: str) -> None:
    payload = record_payload(record_text)
    factory = FakeFactory()
    sign_keyless(json.loads(payload), identity_token="explicit", environ={"SIGSTORE_ID_TOKEN": "ignored"},
                 signer_factory=factory)
    assert factory.tokens == ["explicit"]
    assert factory.signer.statements[0]._contents == payload


def test_github_ambient_token(monkeypatch: pytest.MonkeyPatch) -> None:
    import sigstore.oidc

    asked: list[str] = []

    def detect(client_id: str = "sigstore") -> str:
        asked.append(client_id)
        return "github-token"

    monkeypatch.setattr(sigstore.oidc, "detect_credential", detect)
    assert resolve_identity_token(None, {"ACTIONS_ID_TOKEN_REQUEST_URL": "https://example.invalid/t"}) == "github-token"
    assert asked == ["sigstore"]
    with pytest.raises(SignatureError, match=r"^keyless signing needs an OIDC identity token: set"):
        resolve_identity_token(None, {})  # not GitHub Actions: ambient detection is not tried
    assert asked == ["sigstore"]


def test_github_refusing_a_token(monkeypatch: pytest.MonkeyPatch) -> None:
    import sigstore.oidc

    def detect(client_id: str = "sigstore") -> str:
        raise sigstore.oidc.IdentityError("GitHub: the token request failed with 403")

    monkeypatch.setattr(sigstore.oidc, "detect_credential", detect)
    with pytest.raises(SignatureError) as caught:
        resolve_identity_token(None, {"ACTIONS_ID_TOKEN_REQUEST_URL": "https://example.invalid/t"})
    assert caught.value.message == ("keyless signing needs an OIDC identity token: GitHub Actions did not issue one "
                                    "(GitHub: the token request failed with 403); the job needs permissions "
                                    "id-token: write")


def test_a_statement_sigstore_rejects() -> None:
    no_subject = {"_type": "https://in-toto.io/Statement/v1", "subject": [], "predicateType": "x", "predicate": {}}
    with pytest.raises(SignatureError, match=r"^keyless signing: sigstore rejects the statement: malformed"):
        sign_keyless(no_subject, identity_token="t", environ={}, signer_factory=FakeFactory())


def test_record_payload_needs_an_in_toto_envelope() -> None:
    with pytest.raises(SignatureError) as caught:
        record_payload('{"payloadType": "application/json", "payload": ""}')
    assert str(caught.value) == "record.dsse.json: not an in-toto DSSE envelope"


def _unsigned_jwt(**claims: Any) -> str:
    import jwt

    now = int(dt.datetime.now(dt.UTC).timestamp())
    body = {"iss": "https://gitlab.example", "sub": "project_path:g/p", "aud": "sigstore", "iat": now,
            "exp": now + 600, **claims}
    return jwt.encode(body, "a client does not verify this signature, so any key", algorithm="HS256")


def test_unreachable_sigstore_is_a_service_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from sigstore.errors import TUFError
    from sigstore.models import ClientTrustConfig

    def offline(cls: type[ClientTrustConfig], offline: bool = False) -> ClientTrustConfig:
        raise TUFError("Failed to refresh TUF metadata")

    monkeypatch.setattr(ClientTrustConfig, "production", classmethod(offline))
    with pytest.raises(ServiceError) as caught:
        sign_keyless({"_type": "https://in-toto.io/Statement/v1",
                      "subject": [{"name": "a", "digest": {"sha256": "0" * 64}}], "predicateType": "x"},
                     identity_token=_unsigned_jwt(), environ={})
    assert caught.value.message == ("keyless signing failed: the Sigstore public-good instance could not be used: "
                                    "Failed to refresh TUF metadata")


def test_an_expired_token_is_a_signature_error() -> None:
    past = int(dt.datetime(2020, 1, 1, tzinfo=dt.UTC).timestamp())
    with pytest.raises(SignatureError, match=r"^keyless signing: the OIDC identity token is not usable: "):
        sign_keyless({"_type": "https://in-toto.io/Statement/v1",
                      "subject": [{"name": "a", "digest": {"sha256": "0" * 64}}], "predicateType": "x"},
                     identity_token=_unsigned_jwt(iat=past, exp=past + 60), environ={})


def test_bundle_is_written_beside_the_envelope_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / RECORD_JSON).write_text("{}")
    path = write_bundle(out, FAKE_BUNDLE)
    assert path == out / BUNDLE_JSON
    assert path.parent == (out / RECORD_JSON).parent
    assert path.read_text() == FAKE_BUNDLE

    def fail(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        write_bundle(out, '{"new": true}')
    assert path.read_text() == FAKE_BUNDLE  # the old bundle, whole; no half-written one
    assert sorted(p.name for p in out.iterdir()) == [RECORD_JSON, BUNDLE_JSON]  # no temporary file left


def test_sigstore_is_not_imported_unless_asked() -> None:
    code = "import sys, gate.cli, gate.record, gate.record.keyless; print('sigstore' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


# `gate check --keyless`: these run once cli.py has the wiring (the flag), and are skipped before.
needs_cli_wiring = pytest.mark.skipif(not any(p.name == "keyless" for p in cli.commands["check"].params),
                                      reason="gate check --keyless is not wired")
CHECK_NOW = "2026-11-26T12:00:00Z"
CI_VARIABLES = ("SIGSTORE_ID_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_URL", "GITHUB_ACTIONS", "GITHUB_RUN_ID", "GITLAB_CI",
                "CI_PIPELINE_URL", "GATE_SIGNING_KEY")


class _Bundle:
    def __init__(self, payload: bytes) -> None:
        self.payload = payload

    def to_json(self) -> str:
        return json.dumps({"mediaType": BUNDLE_MEDIA_TYPE,
                           "dsseEnvelope": {"payload": base64.b64encode(self.payload).decode()}})


class _Signer:
    def sign_dsse(self, input_: Any) -> _Bundle:
        return _Bundle(input_._contents)


def _run(gate: Callable[..., Run], tmp_path: Path, db: Path, monkeypatch: pytest.MonkeyPatch,
         token: str | None = None) -> tuple[Run, Path]:
    for name in CI_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    if token is not None:
        monkeypatch.setenv("SIGSTORE_ID_TOKEN", token)
    lockfile, policy = write_inputs(tmp_path)
    out = tmp_path / "out"
    return gate("check", "--lockfile", lockfile, "--policy", policy, "--db", db, "--now", CHECK_NOW, "--out", out,
                "--keyless"), out


@needs_cli_wiring
def test_keyless_writes_the_bundle_beside_the_envelope(gate: Callable[..., Run], tmp_path: Path, example_db: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import gate.record.keyless as keyless

    tokens: list[str] = []

    def public_good(*, staging: bool) -> Callable[[str], Any]:
        @contextmanager
        def factory(token: str) -> Iterator[_Signer]:
            tokens.append(token)
            yield _Signer()
        return factory

    monkeypatch.setattr(keyless, "_public_good", public_good)
    run, out = _run(gate, tmp_path, example_db, monkeypatch, token="gitlab-token")
    assert run.code == 1, run.err
    assert tokens == ["gitlab-token"]
    envelope = json.loads((out / "record.dsse.json").read_text())
    bundle = json.loads((out / "record.sigstore.json").read_text())
    assert bundle["dsseEnvelope"]["payload"] == envelope["payload"]


@needs_cli_wiring
def test_keyless_without_a_token_leaves_no_outputs(gate: Callable[..., Run], tmp_path: Path, example_db: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    run, out = _run(gate, tmp_path, example_db, monkeypatch)
    assert run.code == 5
    assert run.err == ("gate: error: keyless signing needs an OIDC identity token: set SIGSTORE_ID_TOKEN (GitLab: "
                       "id_tokens with aud: sigstore) or run in GitHub Actions with permissions id-token: write\n")
    assert not out.exists()


@needs_cli_wiring
def test_keyless_needs_out(gate: Callable[..., Run]) -> None:
    run = gate("check", "--lockfile", "requirements.txt", "--keyless")
    assert run.code == 2
    assert "--keyless signs the record: give --out DIR" in run.err
