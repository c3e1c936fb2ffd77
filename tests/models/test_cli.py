"""``gate check --models`` end to end on real files: verdicts, outputs, the record, and proof that
nothing is ever unpickled."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Run
from tests.cyclonedx_oracle import check
from tests.models.helpers import (
    file_creating_pickle,
    joblib_with_payload_after_array,
    numpy_object_array,
    safetensors_bytes,
    safetensors_file,
    sklearn_joblib,
    torch_state_dict,
    write_zip,
)

NOW = "2026-11-26T12:00:00Z"
MODELS_ONLY = "stage: staging\nmodels:\n  allowed_formats: [safetensors, onnx, torch-zip]\n  suspicious: warn\n"


def test_nothing_is_unpickled(gate: Callable[..., Run], tmp_path: Path) -> None:
    # Control: loading this pickle in a separate interpreter does create its file, so the canary works.
    control = tmp_path / "control-created"
    subprocess.run([sys.executable, "-c", "import pickle, sys; pickle.loads(sys.stdin.buffer.read())"],
                   input=file_creating_pickle(control), check=True)
    assert control.exists()
    # The same kind of pickle, pointing at another path, in every place the gate looks.
    canary = tmp_path / "canary-created"
    payload = file_creating_pickle(canary)
    models = tmp_path / "models"
    models.mkdir()
    (models / "evil.pkl").write_bytes(payload)
    (models / "evil.bin").write_bytes(payload)
    write_zip(models / "evil.pt", {"archive/data.pkl": payload, "archive/version": b"3\n"})
    write_zip(models / "bundle.zip", {"inner.pt": (models / "evil.pt").read_bytes()})
    joblib_with_payload_after_array(models / "evil.joblib", f"touch {canary}")
    numpy_object_array(models / "evil.npy", f"touch {canary}")
    policy = tmp_path / "policy.yml"
    policy.write_text(MODELS_ONLY)
    run = gate("check", "--models", models, "--policy", policy, "--now", NOW, "--out", tmp_path / "out")
    assert run.code == 1, run.err
    assert not canary.exists()
    result = json.loads((tmp_path / "out" / "result.json").read_text())
    assert {m["path"]: m["verdict"] for m in result["models"]} == {
        str(models / name): "dangerous"
        for name in ("bundle.zip", "evil.bin", "evil.joblib", "evil.npy", "evil.pkl", "evil.pt")}


def test_check_models_end_to_end(gate: Callable[..., Run], tmp_path: Path) -> None:
    models = tmp_path / "models"
    (models / "bert").mkdir(parents=True)
    safetensors_file(models / "bert" / "model.safetensors")
    (models / "bert" / "config.json").write_text('{"architectures": ["BertForMaskedLM"], "model_type": "bert"}')
    (models / "bert" / "README.md").write_text("---\nlicense: apache-2.0\npipeline_tag: fill-mask\n---\n# BERT\n")
    torch_state_dict(models / "net.pt")
    sklearn_joblib(models / "clf.joblib")
    (models / "odd name |<b>@x.bin").write_bytes(b"\x01\x02\x03")
    policy = tmp_path / "policy.yml"
    policy.write_text(MODELS_ONLY)
    out = tmp_path / "out"
    run = gate("check", "--models", models, "--policy", policy, "--now", NOW, "--out", out)
    assert run.code == 1, run.err
    assert run.out.splitlines()[0] == ("gate: FAIL (staging): 2 blocking, 0 waived, 1 warnings; 0 packages, "
                                       "4 model files")
    result = json.loads((out / "result.json").read_text())
    assert [(m["path"].removeprefix(str(models) + "/"), m["format"], m["verdict"]) for m in result["models"]] == [
        ("bert/model.safetensors", "safetensors", "safe"),
        ("clf.joblib", "joblib", "suspicious"),
        ("net.pt", "torch-zip", "safe"),
        ("odd name |<b>@x.bin", "unknown", "safe"),
    ]
    assert result["models"][0]["card"] == {"architecture": "BertForMaskedLM", "model_type": "bert",
                                           "task": "fill-mask", "license": "apache-2.0",
                                           "sources": ["config.json", "README.md"]}
    assert sorted((v["rule"], v["status"], v["location"].removeprefix(str(models) + "/"))
                  for v in result["violations"]) == [
        ("models.allowed_formats", "blocking", "clf.joblib"),
        ("models.suspicious", "warning", "clf.joblib"),
        ("models.unknown_format", "blocking", "odd name |<b>@x.bin"),
    ]
    report = (out / "report.md").read_text()
    assert "### Model files (4)" in report
    assert "odd name &#124;&lt;b&gt;&#64;x.bin" in report and "<b>" not in report
    sbom_text = (out / "sbom.cdx.json").read_text()
    sbom = check(sbom_text)
    ml = [c for c in sbom["components"] if c["type"] == "machine-learning-model"]
    assert len(ml) == 4
    bert = next(c for c in ml if c["name"].endswith("model.safetensors"))
    assert bert["hashes"] == [{"alg": "SHA-256", "content": result["models"][0]["sha256"]}]
    assert bert["licenses"] == [{"expression": "Apache-2.0"}]
    assert bert["modelCard"]["modelParameters"] == {"task": "fill-mask", "architectureFamily": "bert",
                                                    "modelArchitecture": "BertForMaskedLM"}
    statement = json.loads(base64.b64decode(json.loads((out / "record.dsse.json").read_text())["payload"]))
    subjects = {s["name"]: s["digest"]["sha256"] for s in statement["subject"]}
    for entry in result["models"]:
        assert subjects[entry["path"]] == entry["sha256"]
    assert statement["predicate"]["models"] == result["models"]


def test_manifest_mismatch_blocks_and_verify_pins_the_weights(gate: Callable[..., Run], tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import hashlib

    keys = tmp_path / "keys"
    assert gate("keygen", "--out", keys).code == 0
    monkeypatch.setenv("GATE_SIGNING_KEY", str(keys / "gate-signing-key.pem"))
    weights = safetensors_file(tmp_path / "models" / "model.safetensors")
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    policy = tmp_path / "policy.yml"
    policy.write_text(f"models:\n  paths: [models]\n  manifest:\n    models/model.safetensors: sha256:{digest}\n")
    run = gate("check", "--policy", policy, "--now", NOW, "--out", tmp_path / "out")
    assert run.code == 0, run.out + run.err
    record = tmp_path / "out" / "record.dsse.json"
    pub = keys / "gate-signing-key.pub.pem"
    assert gate("verify", record, "--key", pub, "--subject", weights).code == 0
    weights.write_bytes(weights.read_bytes()[:-4] + b"\x01\x02\x03\x04")  # same size, other weights
    run = gate("check", "--policy", policy, "--now", NOW, "--out", tmp_path / "out2")
    assert run.code == 1
    changed = hashlib.sha256(weights.read_bytes()).hexdigest()
    violations = json.loads((tmp_path / "out2" / "result.json").read_text())["violations"]
    assert [(v["rule"], v["status"], v["detail"]) for v in violations] == [
        ("models.manifest", "blocking", f"{weights}: sha256 {changed} differs from the manifest's {digest}")]
    run = gate("verify", record, "--key", pub, "--subject", weights)
    assert run.code == 5
    assert f"sha256 {changed} is not a subject of the record" in run.err


def test_corrupt_safetensors_header_is_a_blocking_finding(gate: Callable[..., Run], tmp_path: Path) -> None:
    data = safetensors_bytes({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, b"\x00" * 16)
    (tmp_path / "cut.safetensors").write_bytes(data[:-8])
    policy = tmp_path / "policy.yml"
    policy.write_text(MODELS_ONLY)
    run = gate("check", "--models", tmp_path / "cut.safetensors", "--policy", policy, "--now", NOW)
    assert run.code == 1
    assert run.out.splitlines()[1] == (f"  blocking  models.block_unsafe: {tmp_path / 'cut.safetensors'}: safetensors: "
                                       "tensors end at byte 16 of the data, the file holds 8: truncated?")


def test_missing_model_path_is_exit_3(gate: Callable[..., Run], tmp_path: Path) -> None:
    policy = tmp_path / "policy.yml"
    policy.write_text(MODELS_ONLY)
    run = gate("check", "--models", tmp_path / "nope", "--policy", policy)
    assert run.code == 3
    assert run.err == f"gate: error: {tmp_path / 'nope'}: model path not found\n"


def test_models_beside_an_environment(gate: Callable[..., Run], tmp_path: Path, example_db: Path) -> None:
    from tests.conftest import ASSETS

    (tmp_path / "evil.pkl").write_bytes(file_creating_pickle(tmp_path / "never"))
    policy = tmp_path / "policy.yml"
    policy.write_text("extends: sandbox\nadvisory_db: null\n")  # the example advisories are older than 30 days
    run = gate("check", "--env", ASSETS / "venvs" / "old-ml", "--policy", policy, "--db", example_db,
               "--now", NOW, "--models", tmp_path / "evil.pkl")
    assert run.code == 1
    assert (f"  blocking  models.block_unsafe: {tmp_path / 'evil.pkl'}: imports builtins.open, which run code or "
            "touch the system when loaded") in run.out.splitlines()
    assert not (tmp_path / "never").exists()


def test_outputs_are_byte_identical_across_runs(gate: Callable[..., Run], tmp_path: Path) -> None:
    models = tmp_path / "models"
    safetensors_file(models / "m.safetensors")
    (models / "config.json").write_text('{"model_type": "bert"}')
    policy = tmp_path / "policy.yml"
    policy.write_text(MODELS_ONLY)
    for out in ("a", "b"):
        assert gate("check", "--models", models, "--policy", policy, "--now", NOW, "--out", tmp_path / out).code == 0
    for name in ("sbom.cdx.json", "result.json", "report.md", "record.dsse.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    check((tmp_path / "a" / "sbom.cdx.json").read_text())
