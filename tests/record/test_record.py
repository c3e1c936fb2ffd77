from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from cryptography.hazmat.primitives import serialization

from gate.errors import SignatureError
from gate.record import (
    PREDICATE_TYPE,
    STATEMENT_TYPE,
    Subject,
    build_statement,
    ci_context,
    environment_manifest,
    generate_keypair,
    load_public_key,
    load_signing_key,
    make_record,
    replay,
    verify_record,
)
from gate.record.dsse import pae
from gate.record.keys import PublicKey
from gate.record.statement import json_safe
from tests.conftest import REPO
from tests.record.helpers import MUTATIONS, NOW, decide, new_key, signed_record, write_inputs

OPENSSL = shutil.which("openssl")
JQ = shutil.which("jq")


@pytest.fixture
def setup(tmp_path: Path, example_db: Path) -> dict[str, Any]:
    lockfile, policy = write_inputs(tmp_path)
    decision = decide(lockfile, policy, example_db)
    key = new_key()
    subjects = [Subject(name="requirements.txt", data=lockfile.read_bytes()),
                Subject(name="report.md", data=b"# report\n")]
    document = signed_record(decision, subjects, key)
    pub = tmp_path / "pub.pem"
    pub.write_bytes(key.key.public_key().public_bytes(serialization.Encoding.PEM,
                                                      serialization.PublicFormat.SubjectPublicKeyInfo))
    record = tmp_path / "record.dsse.json"
    record.write_text(json.dumps(document))
    return {"decision": decision, "key": key, "document": document, "pub": pub, "record": record,
            "lockfile": lockfile, "tmp": tmp_path, "db": example_db}


def test_statement_shape(setup: dict[str, Any]) -> None:
    document = setup["document"]
    assert document["payloadType"] == "application/vnd.in-toto+json"
    assert [s["keyid"] for s in document["signatures"]] == [setup["key"].keyid]
    payload = base64.b64decode(document["payload"])
    statement = json.loads(payload)
    assert rfc8785.dumps(statement) == payload
    assert statement["_type"] == STATEMENT_TYPE == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == PREDICATE_TYPE
    assert statement["subject"] == [
        {"name": "report.md", "digest": {"sha256": hashlib.sha256(b"# report\n").hexdigest()}},
        {"name": "requirements.txt", "digest": {"sha256": hashlib.sha256(setup["lockfile"].read_bytes()).hexdigest()}},
    ]
    predicate = statement["predicate"]
    assert predicate["decision"] == "fail"
    assert predicate["checked_at"] == predicate["started_at"] == predicate["finished_at"] == "2026-11-26T12:00:00Z"
    assert set(predicate) == {"gate", "decision", "checked_at", "started_at", "finished_at", "policy", "advisory_db",
                              "environment", "findings", "violations", "waivers", "models", "notes", "ci"}
    assert predicate["policy"]["effective"]["stage"] == "production"
    assert predicate["advisory_db"]["records"] == 12
    assert [e["name"] for e in predicate["environment"]["manifest"]] == ["jinja2", "requests", "urllib3"]
    statuses = {f["status"] for f in predicate["findings"]}
    assert {"blocking", "waived"} <= statuses
    assert predicate["waivers"] == [{"id": "CVE-2024-35195", "package": "requests",
                                     "reason": "no Session is reused after a verify=False request in this service",
                                     "owner": "platform-security@example.com", "expires": "2099-12-31"}]
    assert predicate["ci"] == {}


def test_same_input_same_payload(setup: dict[str, Any]) -> None:
    subjects = [Subject(name="a", data=b"x")]
    one = build_statement(setup["decision"], subjects=subjects, ci={}, started_at=NOW, finished_at=NOW)
    two = build_statement(setup["decision"], subjects=subjects, ci={}, started_at=NOW, finished_at=NOW)
    assert rfc8785.dumps(one) == rfc8785.dumps(two)


def test_big_integers_become_strings() -> None:
    assert json_safe({"a": 2**53, "b": 2**53 - 1, "c": [-(2**60)], "d": True, "e": 1.5}) == {
        "a": "9007199254740992", "b": 9007199254740991, "c": ["-1152921504606846976"], "d": True, "e": 1.5}


def test_verify_valid(setup: dict[str, Any]) -> None:
    result = verify_record(setup["record"], [load_public_key(setup["pub"])], subjects=[setup["lockfile"]])
    assert result.decision == "fail" and not result.passed
    assert result.keyid == setup["key"].keyid
    assert result.policy["stage"] == "production"
    assert result.checked_at == "2026-11-26T12:00:00Z"


def test_every_key_tried_keyid_only_a_hint(setup: dict[str, Any]) -> None:
    other = new_key()
    document = dict(setup["document"], signatures=[dict(setup["document"]["signatures"][0], keyid="nonsense")])
    setup["record"].write_text(json.dumps(document))
    keys = [PublicKey(keyid=other.keyid, key=other.key.public_key(), origin="other"),
            load_public_key(setup["pub"])]
    assert verify_record(setup["record"], keys).keyid == setup["key"].keyid


def test_subject_edited_after_check_fails(setup: dict[str, Any]) -> None:
    lockfile = setup["lockfile"]
    lockfile.write_text(lockfile.read_text().replace("jinja2==3.1.2", "jinja2==3.1.4"))
    digest = hashlib.sha256(lockfile.read_bytes()).hexdigest()
    with pytest.raises(SignatureError) as error:
        verify_record(setup["record"], [load_public_key(setup["pub"])], subjects=[lockfile])
    assert error.value.diagnostic() == f"{lockfile}: sha256 {digest} is not a subject of the record {setup['record']}"


EXPECTED_REASON = {
    "flipped payload bit": "no signature verifies under the 1 pinned key(s)",
    "decision edited": "no signature verifies under the 1 pinned key(s)",
    "payload re-indented": "no signature verifies under the 1 pinned key(s)",
    "flipped signature": "no signature verifies under the 1 pinned key(s)",
    "truncated signature": "no signature verifies under the 1 pinned key(s)",
    "changed payloadType": "payloadType is 'application/json', expected 'application/vnd.in-toto+json'",
    "untrusted key, forged keyid": "no signature verifies under the 1 pinned key(s)",
    "empty signature list": "the record is not signed (empty signature list)",
}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_mutation_rejected_by_gate(setup: dict[str, Any], mutation: str) -> None:
    setup["record"].write_text(json.dumps(MUTATIONS[mutation](setup["document"])))
    with pytest.raises(SignatureError) as error:
        verify_record(setup["record"], [load_public_key(setup["pub"])])
    assert error.value.diagnostic() == f"{setup['record']}: {EXPECTED_REASON[mutation]}"


def test_envelope_with_a_number_too_long_to_convert(setup: dict[str, Any]) -> None:
    # found by benchmarks/fuzz_inputs.py: json's int() raised a bare ValueError (exit 70), not exit 5
    setup["record"].write_text('{"payload": "", "x": ' + "1" * 5000 + "}")
    with pytest.raises(SignatureError) as error:
        verify_record(setup["record"], [load_public_key(setup["pub"])])
    assert error.value.diagnostic() == f"{setup['record']}: not a JSON DSSE envelope"


def _sslib_verify(document: dict[str, Any], pub: Path, keyid: str) -> None:
    from securesystemslib.dsse import Envelope
    from securesystemslib.signer import SSlibKey

    public = serialization.load_pem_public_key(pub.read_bytes())
    key = SSlibKey.from_crypto(public, keyid=keyid)
    envelope = Envelope.from_dict(json.loads(json.dumps(document)))
    envelope.verify([key], 1)


def test_securesystemslib_accepts_valid(setup: dict[str, Any]) -> None:
    _sslib_verify(setup["document"], setup["pub"], setup["key"].keyid)


def test_securesystemslib_signer_record_verifies_with_gate(setup: dict[str, Any], tmp_path: Path) -> None:
    """The other direction: an envelope signed by securesystemslib's CryptoSigner passes gate verify."""
    from securesystemslib.dsse import Envelope
    from securesystemslib.signer import CryptoSigner

    signer = CryptoSigner(setup["key"].key)
    payload = base64.b64decode(setup["document"]["payload"])
    envelope = Envelope(payload, "application/vnd.in-toto+json", {})
    envelope.sign(signer)
    record = tmp_path / "sslib.dsse.json"
    record.write_text(json.dumps(envelope.to_dict()))
    assert verify_record(record, [load_public_key(setup["pub"])]).decision == "fail"


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_mutation_rejected_by_securesystemslib(setup: dict[str, Any], mutation: str) -> None:
    from securesystemslib.exceptions import VerificationError

    mutated = MUTATIONS[mutation](setup["document"])
    with pytest.raises(VerificationError):
        _sslib_verify(mutated, setup["pub"], setup["key"].keyid)


def _recipe() -> str:
    text = (REPO / "docs" / "record.md").read_text()
    section = text.split("## Verify with OpenSSL only", 1)[1]
    match = re.search(r"```sh\n(.*?)```", section, re.S)
    assert match is not None
    return match.group(1)


def _run_recipe(record: Path, pub: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", _recipe()], cwd=record.parent, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "RECORD": str(record), "PUB": str(pub)}, check=False)


needs_openssl = pytest.mark.skipif(OPENSSL is None or JQ is None, reason="openssl or jq is not on the machine")


@needs_openssl
def test_openssl_recipe_accepts_valid(setup: dict[str, Any]) -> None:
    done = _run_recipe(setup["record"], setup["pub"])
    assert done.returncode == 0, done.stderr
    assert "Signature Verified Successfully" in done.stdout
    assert '"decision": "fail"' in done.stdout
    digest = hashlib.sha256(setup["lockfile"].read_bytes()).hexdigest()
    assert f"{digest}  requirements.txt" in done.stdout


@needs_openssl
@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_mutation_rejected_by_openssl_recipe(setup: dict[str, Any], mutation: str) -> None:
    setup["record"].write_text(json.dumps(MUTATIONS[mutation](setup["document"])))
    done = _run_recipe(setup["record"], setup["pub"])
    assert done.returncode != 0
    assert "Signature Verified Successfully" not in done.stdout


@needs_openssl
def test_keyid_is_openssl_der_sha256(tmp_path: Path) -> None:
    _, public_path, keyid = generate_keypair(tmp_path / "keys")
    der = subprocess.run(["openssl", "pkey", "-pubin", "-in", str(public_path), "-outform", "DER"],
                         capture_output=True, check=True).stdout
    assert keyid == hashlib.sha256(der).hexdigest() == load_public_key(public_path).keyid


def test_keygen_modes_and_no_overwrite(tmp_path: Path) -> None:
    private_path, public_path, _ = generate_keypair(tmp_path)
    assert private_path.stat().st_mode & 0o777 == 0o600
    assert b"PRIVATE" not in public_path.read_bytes()
    with pytest.raises(SignatureError) as error:
        generate_keypair(tmp_path)
    assert error.value.diagnostic() == f"{private_path}: already exists; not overwriting a key"


def test_signing_key_forms(tmp_path: Path) -> None:
    private_path, _, keyid = generate_keypair(tmp_path)
    pem = private_path.read_text()
    for value in (pem, base64.b64encode(pem.encode()).decode(), str(private_path)):
        loaded = load_signing_key({"GATE_SIGNING_KEY": value})
        assert loaded is not None and loaded.keyid == keyid
    assert load_signing_key({}) is None
    with pytest.raises(SignatureError) as error:
        load_signing_key({"GATE_SIGNING_KEY": "not a key"})
    assert error.value.diagnostic() == ("GATE_SIGNING_KEY: neither PEM text, base64 of a PEM, nor the path of a key "
                                        "file")
    assert "PRIVATE" not in str(error.value)


def test_required_signature_without_key(setup: dict[str, Any]) -> None:
    decision = setup["decision"]
    with pytest.raises(SignatureError) as error:
        make_record(decision, subjects=[], environ={}, started_at=NOW, finished_at=NOW, require_signature=True)
    assert error.value.diagnostic() == (f"{decision.policy.path}: the policy requires a signed record "
                                        "(record.require_signature) and GATE_SIGNING_KEY is not set")
    unsigned = make_record(decision, subjects=[], environ={}, started_at=NOW, finished_at=NOW,
                           require_signature=False)
    assert json.loads(unsigned.text)["signatures"] == [] and unsigned.keyid is None
    assert unsigned.note is not None and "unsigned" in unsigned.note


def test_pae() -> None:
    assert pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world")


def test_ci_context() -> None:
    github = {"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "acme/app", "GITHUB_SHA": "abc", "GITHUB_REF":
              "refs/heads/main", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_RUN_ID": "42",
              "GITHUB_ACTOR": "alice", "GITHUB_TOKEN": "secret"}
    assert ci_context(github) == {"system": "github", "repository": "acme/app", "commit": "abc",
                                  "ref": "refs/heads/main", "run_url": "https://github.com/acme/app/actions/runs/42",
                                  "actor": "alice"}
    gitlab = {"GITLAB_CI": "true", "CI_PROJECT_PATH": "acme/app", "CI_COMMIT_SHA": "def",
              "CI_COMMIT_REF_NAME": "main", "CI_PIPELINE_URL": "https://gitlab.com/acme/app/-/pipelines/7",
              "GITLAB_USER_LOGIN": "bob", "CI_JOB_TOKEN": "secret"}
    assert ci_context(gitlab) == {"system": "gitlab", "repository": "acme/app", "commit": "def", "ref": "main",
                                  "run_url": "https://gitlab.com/acme/app/-/pipelines/7", "actor": "bob"}
    assert ci_context({"PATH": "/bin"}) == {}


def test_environment_manifest_canonical_and_sorted(setup: dict[str, Any]) -> None:
    data = environment_manifest(setup["decision"].environment)
    document = json.loads(data)
    assert rfc8785.dumps(document) == data
    assert [p["name"] for p in document["packages"]] == ["jinja2", "requests", "urllib3"]
    assert document["digest"] == setup["decision"].environment.digest


def test_replay_same_database_reproduces(setup: dict[str, Any]) -> None:
    statement = json.loads(base64.b64decode(setup["document"]["payload"]))
    result = replay(statement, setup["db"], where=str(setup["record"]))
    assert result.same_database and result.environment_digest_matches
    assert result.verdict == result.recorded_verdict == "fail"
    assert result.added == () and result.removed == ()
    assert result.reproduced


def test_replay_newer_database_shows_changes(setup: dict[str, Any], tmp_path: Path) -> None:
    import datetime as dt

    from gate.advisories import import_database
    from tests.conftest import ASSETS

    folder = tmp_path / "osv"
    shutil.copytree(ASSETS / "example" / "advisories", folder)
    removed = folder / "GHSA-9hjg-9r4m-mvj7.json"
    removed_id = removed.stem
    removed.unlink()
    db = tmp_path / "new.sqlite3"
    import_database(folder, db, now=dt.datetime(2026, 11, 27, tzinfo=dt.UTC))
    statement = json.loads(base64.b64decode(setup["document"]["payload"]))
    result = replay(statement, db, where=str(setup["record"]))
    assert not result.same_database
    recorded_ids = {f["id"] for f in statement["predicate"]["findings"]}
    assert removed_id in recorded_ids
    assert {f["id"] for f in result.removed} == {removed_id}
    assert result.added == ()
