"""The ``models`` section: formats, unsafe and suspicious imports, the manifest."""

from __future__ import annotations

from pathlib import Path

import pytest

from gate.errors import PolicyError
from gate.model import ModelFile, PickleImport, Safety, Status, Verdict
from gate.policy import load_policy
from gate.policy.evaluate import evaluate
from tests.factories import NOW, environment

SHA_A = "a" * 64
SHA_B = "b" * 64


def model(tmp_path: Path, name: str, fmt: str = "safetensors", *, sha256: str = SHA_A,
          imports: tuple[tuple[str, str, Safety], ...] = (), problems: tuple[str, ...] = ()) -> ModelFile:
    return ModelFile(path=f"models/{name}", real_path=str(tmp_path / "models" / name), size=10, sha256=sha256,
                     format=fmt, problems=problems,
                     imports=tuple(PickleImport(module=m, name=n, safety=s, stream="") for m, n, s in imports))


def judge(tmp_path: Path, policy: str, *models: ModelFile) -> list[tuple[str, Status, str]]:
    path = tmp_path / "policy.yml"
    path.write_text(policy, encoding="utf-8")
    decision = evaluate(environment=environment(), policy=load_policy(path), matches=[], database=None, now=NOW,
                        models=models)
    assert decision.models == models
    assert decision.verdict is (Verdict.FAIL if decision.blocking else Verdict.PASS)
    return [(v.rule, v.status, v.detail) for v in decision.violations]


def test_formats(tmp_path: Path) -> None:
    policy = "models:\n  allowed_formats: [safetensors, onnx]\n"
    assert judge(tmp_path, policy, model(tmp_path, "a.safetensors"), model(tmp_path, "b.pt", "torch-zip"),
                 model(tmp_path, "c.bin", "unknown")) == [
        ("models.allowed_formats", Status.BLOCKING,
         "models/b.pt: format torch-zip is not allowed (allowed: onnx, safetensors)"),
        ("models.unknown_format", Status.BLOCKING, "models/c.bin: format not recognised from the bytes: it cannot "
                                                   "be judged"),
    ]
    assert judge(tmp_path, "models:\n  unknown_format: warn\n", model(tmp_path, "c.bin", "unknown"))[0][1] \
        is Status.WARNING


def test_unsafe_and_suspicious(tmp_path: Path) -> None:
    evil = model(tmp_path, "e.pkl", "pickle", imports=(("os", "system", Safety.DANGEROUS),
                                                        ("sklearn.svm", "SVC", Safety.SUSPICIOUS)),
                 problems=("pickle 2: byte 0x00 at offset 9 is not a pickle opcode",))
    assert judge(tmp_path, "models: {suspicious: block}\n", evil) == [
        ("models.block_unsafe", Status.BLOCKING, "models/e.pkl: imports os.system, which run code or touch the "
                                                 "system when loaded; pickle 2: byte 0x00 at offset 9 is not a "
                                                 "pickle opcode"),
        ("models.suspicious", Status.BLOCKING, "models/e.pkl: imports sklearn.svm.SVC, outside the allow list "
                                               "(their code runs when loaded)"),
    ]
    relaxed = judge(tmp_path, "models: {block_unsafe: false, suspicious: allow}\n", evil)
    assert [(rule, status) for rule, status, _ in relaxed] == [("models.block_unsafe", Status.WARNING)]


def test_manifest(tmp_path: Path) -> None:
    policy = f"models:\n  manifest:\n    models/a.safetensors: sha256:{SHA_A}\n    models/b.safetensors: {SHA_A}\n" \
             f"    models/gone.safetensors: {SHA_A}\n"
    found = judge(tmp_path, policy, model(tmp_path, "a.safetensors"), model(tmp_path, "b.safetensors", sha256=SHA_B),
                  model(tmp_path, "new.safetensors"))
    assert found == [
        ("models.manifest", Status.BLOCKING, f"models/b.safetensors: sha256 {SHA_B} differs from the manifest's "
                                             f"{SHA_A}"),
        ("models.unlisted", Status.BLOCKING, "models/new.safetensors: not listed in models.manifest"),
        ("models.manifest", Status.BLOCKING, "models/gone.safetensors: listed in models.manifest but not among "
                                             "the model files scanned"),
    ]
    warn = judge(tmp_path, f"models:\n  unlisted: warn\n  manifest: {{models/a.safetensors: {SHA_A}}}\n",
                 model(tmp_path, "a.safetensors"), model(tmp_path, "new.safetensors"))
    assert [(rule, status) for rule, status, _ in warn] == [("models.unlisted", Status.WARNING)]


def test_no_section_only_notes(tmp_path: Path) -> None:
    path = tmp_path / "policy.yml"
    path.write_text("stage: x\n", encoding="utf-8")
    evil = model(tmp_path, "e.pkl", "pickle", imports=(("os", "system", Safety.DANGEROUS),))
    decision = evaluate(environment=environment(), policy=load_policy(path), matches=[], database=None, now=NOW,
                        models=(evil,))
    assert decision.violations == ()
    assert decision.notes[-1:] == ("1 model file(s) inventoried but not judged: the policy has no models section "
                              "(1 with dangerous content).",)


def test_paths_and_manifest_are_relative_to_the_policy_file(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    path = tmp_path / "conf" / "policy.yml"
    path.write_text(f"models:\n  paths: [../models]\n  manifest: {{../models/a.bin: {SHA_A}}}\n", encoding="utf-8")
    rules = load_policy(path).models
    assert rules is not None
    assert rules.paths == (str(tmp_path / "models"),)
    assert rules.manifest == (("../models/a.bin", str((tmp_path / "models" / "a.bin").resolve()), SHA_A),)


@pytest.mark.parametrize(("text", "message"), [
    ("models:\n  allowed_formats: [pickel]\n", "policy.yml:2: models.allowed_formats[0]: 'pickel' is not one of "),
    ("models:\n  manifest: {a.bin: md5:abc}\n", "policy.yml:2: models.manifest.a.bin: 'md5:abc' does not match "),
    ("models:\n  suspcious: warn\n", "policy.yml:2: models.suspcious: unknown key 'suspcious' (did you mean "
                                     "'suspicious'?)"),
])
def test_schema_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "policy.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError) as error:
        load_policy(path)
    assert str(error.value).startswith(str(tmp_path / message))


def test_shipped_policies(tmp_path: Path) -> None:
    from gate.policy import shipped_policy_dir

    production = load_policy(shipped_policy_dir() / "production.yml").models
    staging = load_policy(shipped_policy_dir() / "staging.yml").models
    sandbox = load_policy(shipped_policy_dir() / "sandbox.yml").models
    assert production is not None and production.allowed_formats == frozenset({"safetensors", "onnx"})
    assert production.suspicious.value == "block"
    assert staging is not None and staging.allowed_formats is not None and "torch-zip" in staging.allowed_formats
    assert sandbox is not None and sandbox.allowed_formats is None and sandbox.block_unsafe
