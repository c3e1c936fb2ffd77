from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from gate.cli import cli
from tests.conftest import Run
from tests.record.helpers import write_inputs

pytestmark = pytest.mark.skipif("verify" not in getattr(cli, "commands", {}), reason="gate verify is not wired")

NOW = "2026-11-26T12:00:00Z"


def _check(gate: Callable[..., Run], tmp_path: Path, db: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    keys = tmp_path / "keys"
    assert gate("keygen", "--out", keys).code == 0
    monkeypatch.setenv("GATE_SIGNING_KEY", str(keys / "gate-signing-key.pem"))
    for name in ("GITHUB_ACTIONS", "GITHUB_RUN_ID", "GITLAB_CI", "CI_PIPELINE_URL"):
        monkeypatch.delenv(name, raising=False)
    lockfile, policy = write_inputs(tmp_path)
    out = tmp_path / "out"
    run = gate("check", "--lockfile", lockfile, "--policy", policy, "--db", db, "--now", NOW, "--out", out)
    assert run.code == 1, run.err
    return out, keys / "gate-signing-key.pub.pem"


def test_check_verify_replay(gate: Callable[..., Run], tmp_path: Path, example_db: Path,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    out, pub = _check(gate, tmp_path, example_db, monkeypatch)
    record = out / "record.dsse.json"
    subjects = {s["name"] for s in json.loads(__import__("base64").b64decode(json.loads(record.read_text())
                                                                              ["payload"]))["subject"]}
    assert subjects >= {str(tmp_path / "requirements.txt"), "report.md"}
    run = gate("verify", record, "--key", pub, "--subject", tmp_path / "requirements.txt", "--subject",
               out / "report.md")
    assert run.code == 1, run.err
    assert "decision: fail" in run.out and "date:     2026-11-26T12:00:00Z" in run.out
    run = gate("replay", record, "--db", example_db, "--key", pub)
    assert run.code == 1
    assert run.out.startswith("replayed with same database: decision fail (recorded: fail)")


def test_verify_rejects_edited_lockfile_and_unknown_key(gate: Callable[..., Run], tmp_path: Path, example_db: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    out, pub = _check(gate, tmp_path, example_db, monkeypatch)
    lockfile = tmp_path / "requirements.txt"
    lockfile.write_text(lockfile.read_text() + "# edited\n")
    run = gate("verify", out / "record.dsse.json", "--key", pub, "--subject", lockfile)
    assert run.code == 5
    assert run.err.startswith(f"gate: error: {lockfile}: sha256 ")
    other = tmp_path / "other"
    assert gate("keygen", "--out", other).code == 0
    run = gate("verify", out / "record.dsse.json", "--key", other / "gate-signing-key.pub.pem")
    assert run.code == 5
    assert run.err == f"gate: error: {out / 'record.dsse.json'}: no signature verifies under the 1 pinned key(s)\n"


def test_required_signature_without_key_is_no_verdict(gate: Callable[..., Run], tmp_path: Path, example_db: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GATE_SIGNING_KEY", raising=False)
    lockfile, _ = write_inputs(tmp_path)
    policy = tmp_path / "signed.yml"
    policy.write_text(f"extends: {tmp_path / 'policy.yml'}\nrecord: {{require_signature: true}}\n")
    out = tmp_path / "out"
    run = gate("check", "--lockfile", lockfile, "--policy", policy, "--db", example_db, "--now", NOW, "--out", out)
    assert run.code == 5
    assert "GATE_SIGNING_KEY is not set" in run.err
    assert not out.exists() or not any(out.iterdir())


def test_unsigned_record_when_not_required(gate: Callable[..., Run], tmp_path: Path, example_db: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GATE_SIGNING_KEY", raising=False)
    lockfile, policy = write_inputs(tmp_path)
    policy.write_text(policy.read_text() + "record: {require_signature: false}\n")
    out = tmp_path / "out"
    run = gate("check", "--lockfile", lockfile, "--policy", policy, "--db", example_db, "--now", NOW, "--out", out)
    assert run.code == 1
    assert json.loads((out / "record.dsse.json").read_text())["signatures"] == []
    assert "gate: note: the record is unsigned" in run.err
