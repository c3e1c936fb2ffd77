"""End to end: consistency and drift through ``gate check`` (``--baseline``, RECORD checks)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ASSETS, Run
from tests.sources.helpers import OLD, make_venv
from tests.sources.test_record_check import install

Gate = Callable[..., Run]
NOW = "2026-11-26T12:00:00Z"
SITE = "lib/python3.11/site-packages"
UV_LOCK = ASSETS / "lockfiles" / "uv.lock" / "uv.lock"
APPROVAL = "consistency: {enforce: true}\n"
PRODUCTION = "consistency: {enforce: true}\ndrift:\n  forbid: [added, removed, changed, modified_files]\n"


def policy(tmp_path: Path, text: str, name: str = "policy.yml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def violations(out: Path) -> list[tuple[str, str | None, str, str]]:
    result: dict[str, Any] = json.loads((out / "result.json").read_text(encoding="utf-8"))
    return sorted((v["rule"], v["package"], v["status"], v["detail"]) for v in result["violations"])


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    root = tmp_path / "venv"
    site = make_venv(root)
    install(site, "app", "1.0", {"app/__init__.py": b"import lib\n"})
    install(site, "lib", "2.0", {"lib/__init__.py": b"VALUE = 2\n", "lib/util.py": b"def f():\n    return 1\n"})
    install(site, "six", "1.17.0", {"six.py": b"# six\n"})
    return root


def test_drift_reports_added_removed_changed_and_edited_files(gate: Gate, venv: Path, tmp_path: Path) -> None:
    approved = tmp_path / "approved"
    run = gate("check", "--env", venv, "--policy", policy(tmp_path, APPROVAL, "approval.yml"), "--out", approved,
               "--now", NOW)
    assert run.code == 0, run.out + run.err

    site = venv / SITE
    shutil.rmtree(site / "six-1.17.0.dist-info")  # removed
    (site / "six.py").unlink()
    install(site, "extra_tool", "0.1", {"extra_tool.py": b"pass\n"})  # added
    shutil.rmtree(site / "app-1.0.dist-info")  # changed
    install(site, "app", "1.1", {"app/__init__.py": b"import lib\n"})
    (site / "lib" / "util.py").write_bytes(b"def f():\n    return 2\n")  # edited after installation

    out = tmp_path / "out"
    run = gate("check", "--env", venv, "--policy", policy(tmp_path, PRODUCTION), "--baseline",
               approved / "result.json", "--out", out, "--now", NOW)
    assert run.code == 1, run.err
    where = f"the baseline {approved / 'result.json'}"
    assert violations(out) == [
        ("drift.added", "extra-tool", "blocking",
         f"extra-tool 0.1 is not in {where}: it was added since approval; remove it, or approve it by making a new "
         "baseline"),
        ("drift.changed", "app", "blocking",
         f"app changed since {where}: 1.0 → 1.1; restore the approved one, or approve the change by making a new "
         "baseline"),
        ("drift.modified_files", "lib", "blocking",
         f"1 installed file(s) of lib no longer match its RECORD: {SITE}/lib/util.py (hash mismatch); reinstall lib "
         "so that its files are the released ones, and find out who changed them"),
        ("drift.removed", "six", "blocking",
         f"six 1.17.0 is in {where} but not here: it was removed since approval; restore it, or approve the removal "
         "by making a new baseline"),
    ]
    assert "  blocking  drift.changed: app==1.1: app changed since" in run.out


def test_an_unchanged_environment_passes_production_drift(gate: Gate, venv: Path, tmp_path: Path) -> None:
    approved = tmp_path / "approved"
    assert gate("check", "--env", venv, "--policy", policy(tmp_path, APPROVAL, "approval.yml"), "--out", approved,
                "--now", NOW).code == 0
    run = gate("check", "--env", venv, "--policy", policy(tmp_path, PRODUCTION), "--baseline",
               approved / "result.json", "--now", NOW)
    assert run.code == 0, run.out + run.err


def test_drift_without_a_baseline_blocks(gate: Gate, venv: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run = gate("check", "--env", venv, "--policy", policy(tmp_path, PRODUCTION), "--out", out, "--now", NOW)
    assert run.code == 1
    assert [(rule, status) for rule, _, status, _ in violations(out)] == [("drift", "blocking")]


def test_a_lockfile_against_itself(gate: Gate, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run = gate("check", "--lockfile", UV_LOCK, "--baseline", UV_LOCK, "--target", "python=3.11,platform=linux_x86_64",
               "--policy", policy(tmp_path, PRODUCTION), "--out", out, "--now", NOW)
    assert run.code == 0, run.out + run.err
    notes = json.loads((out / "result.json").read_text(encoding="utf-8"))["notes"]
    assert "Drift: the input is a lockfile, so there are no installed files to verify (modified_files)." in notes


def test_consistency_on_the_old_venv(gate: Gate, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run = gate("check", "--env", OLD, "--target", "python=3.11,platform=linux_x86_64",
               "--policy", policy(tmp_path, APPROVAL), "--out", out, "--now", NOW)
    assert run.code == 1
    assert violations(out) == [
        ("consistency", "requests", "blocking",
         "requests 2.19.1 requires urllib3<1.24,>=1.21.1, but urllib3 1.24.1 is installed: move to a urllib3 release "
         "that satisfies it, or to a requests release that accepts urllib3 1.24.1")]


def test_a_baseline_that_cannot_be_read(gate: Gate, venv: Path, tmp_path: Path) -> None:
    missing = tmp_path / "absent.json"
    run = gate("check", "--env", venv, "--policy", policy(tmp_path, PRODUCTION), "--baseline", missing)
    assert run.code == 3
    assert run.err == f"gate: error: {missing}: no such file or directory\n"
    old = tmp_path / "old-result.json"
    old.write_text('{"schema_version": 1, "decision": "pass", "environment": {"packages": 3}}', encoding="utf-8")
    run = gate("check", "--env", venv, "--policy", policy(tmp_path, PRODUCTION), "--baseline", old)
    assert run.code == 3
    assert run.err.startswith(f"gate: error: {old}: environment.manifest: missing: this result.json is from a gate")
