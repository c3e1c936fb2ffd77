"""`gate drift --env PATH --baseline RECORD`: a running environment against the record that promoted it."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Run
from tests.sources.helpers import make_venv
from tests.sources.test_record_check import install

Gate = Callable[..., Run]
NOW = "2026-11-26T12:00:00Z"
SITE = "lib/python3.11/site-packages"
FORBID = "drift:\n  forbid: [added, removed, changed, modified_files]\n"


@pytest.fixture
def promoted(gate: Gate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """A virtualenv checked (and signed) under a policy with a drift section."""
    root = tmp_path / "venv"
    site = make_venv(root)
    install(site, "app", "1.0", {"app/__init__.py": b"import lib\n"})
    install(site, "lib", "2.0", {"lib/__init__.py": b"VALUE = 2\n"})
    keys = tmp_path / "keys"
    assert gate("keygen", "--out", keys).code == 0
    monkeypatch.setenv("GATE_SIGNING_KEY", str(keys / "gate-signing-key.pem"))
    staging = tmp_path / "staging.yml"
    staging.write_text("stage: staging\n")
    assert gate("check", "--env", root, "--policy", staging, "--out", tmp_path / "staged", "--now", NOW).code == 0
    policy = tmp_path / "policy.yml"
    policy.write_text("stage: production\n" + FORBID)
    out = tmp_path / "out"
    run = gate("check", "--env", root, "--policy", policy, "--baseline", tmp_path / "staged" / "result.json",
               "--out", out, "--now", NOW)
    assert run.code == 0, run.out + run.err
    return {"env": root, "record": out / "record.dsse.json", "result": out / "result.json",
            "pub": keys / "gate-signing-key.pub.pem", "policy": policy}


def test_no_drift_against_the_promoting_record(gate: Gate, promoted: dict[str, Path]) -> None:
    run = gate("drift", "--env", promoted["env"], "--baseline", promoted["record"], "--key", promoted["pub"])
    assert run.code == 0, run.out + run.err
    assert run.err == ""


def test_drift_from_the_record_uses_its_recorded_policy(gate: Gate, promoted: dict[str, Path]) -> None:
    site = promoted["env"] / SITE
    install(site, "intruder", "0.1", {"intruder.py": b"pass\n"})
    (site / "lib" / "__init__.py").write_bytes(b"VALUE = 3\n")
    run = gate("drift", "--env", promoted["env"], "--baseline", promoted["record"], "--key", promoted["pub"])
    assert run.code == 1
    assert "  blocking  drift.added: intruder==0.1: intruder 0.1 is not in the baseline " in run.out
    assert "drift.modified_files: lib==2.0: 1 installed file(s) of lib no longer match its RECORD" in run.out
    # a policy that forbids neither added packages nor edited files: a warning, exit 0
    lenient = promoted["policy"].parent / "lenient.yml"
    lenient.write_text("drift:\n  forbid: [removed, changed]\n")
    warned = gate("drift", "--env", promoted["env"], "--baseline", promoted["record"], "--key", promoted["pub"],
                  "--policy", lenient)
    assert warned.code == 0, warned.out
    assert warned.out == "gate: PASS: 0 blocking, 0 waived, 1 warnings; 3 packages\n"


def test_result_json_baseline_and_removed_package(gate: Gate, promoted: dict[str, Path]) -> None:
    site = promoted["env"] / SITE
    shutil.rmtree(site / "app-1.0.dist-info")
    shutil.rmtree(site / "app")
    run = gate("drift", "--env", promoted["env"], "--baseline", promoted["result"], "--policy", promoted["policy"])
    assert run.code == 1
    assert "  blocking  drift.removed: app==1.0: app 1.0 is in the baseline " in run.out


def test_forged_or_unchecked_baseline(gate: Gate, promoted: dict[str, Path], tmp_path: Path) -> None:
    assert gate("keygen", "--out", tmp_path / "other").code == 0
    forged = gate("drift", "--env", promoted["env"], "--baseline", promoted["record"], "--key",
                  tmp_path / "other" / "gate-signing-key.pub.pem")
    assert forged.code == 5
    assert forged.err == f"gate: error: {promoted['record']}: no signature verifies under the 1 pinned key(s)\n"
    unchecked = gate("drift", "--env", promoted["env"], "--baseline", promoted["record"])
    assert unchecked.code == 0
    assert unchecked.err == "gate: note: the baseline record's signature was not checked (give --key to check it)\n"


def test_a_policy_without_drift_is_refused(gate: Gate, promoted: dict[str, Path], tmp_path: Path) -> None:
    policy = tmp_path / "nodrift.yml"
    policy.write_text("stage: production\n")
    run = gate("drift", "--env", promoted["env"], "--baseline", promoted["record"], "--policy", policy)
    assert run.code == 3
    assert run.err == (f"gate: error: {policy}: the policy has no drift section, so no drift is forbidden: give "
                       "--policy with one\n")


def test_a_record_of_a_large_environment_is_read_as_a_record(gate: Gate, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Found while fuzzing (benchmarks/fuzz_inputs.py): the record was told by "payloadType" in its first
    64 kB, but the gate writes sorted keys, so that key follows the payload; a record of more than about
    a hundred packages was taken for a lockfile ("not a format the gate reads", exit 3)."""
    from tests.sources.helpers import add_dist

    root = tmp_path / "venv"
    site = make_venv(root)
    for index in range(300):
        add_dist(site, f"package-number-{index}", f"1.{index}")
    keys = tmp_path / "keys"
    assert gate("keygen", "--out", keys).code == 0
    monkeypatch.setenv("GATE_SIGNING_KEY", str(keys / "gate-signing-key.pem"))
    policy = tmp_path / "policy.yml"
    policy.write_text("stage: production\ndrift:\n  forbid: [added, removed, changed]\n")
    assert gate("check", "--env", root, "--policy", policy, "--baseline", root, "--out", tmp_path / "out",
                "--now", NOW).code == 0
    record = tmp_path / "out" / "record.dsse.json"
    assert record.read_bytes().find(b'"payloadType"') > 65536
    run = gate("drift", "--env", root, "--baseline", record, "--key", keys / "gate-signing-key.pub.pem")
    assert run.code == 0, run.out + run.err
    assert run.out.startswith("gate: PASS: 0 blocking, 0 waived, 0 warnings; 300 packages")
