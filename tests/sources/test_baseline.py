from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gate.errors import InputError
from gate.fileio import dump_json
from gate.model import Environment, Location, Package, Source, SourceKind, Target
from gate.policy.evaluate import evaluate
from gate.policy.model import Policy
from gate.report.result import manifest_entry, result_document
from gate.sources import read_environment, reader_for_lockfile
from gate.sources.baseline import load_baseline
from gate.sources.selection import select
from tests.conftest import ASSETS
from tests.factories import NOW
from tests.sources.helpers import OLD

UV_LOCK = ASSETS / "lockfiles" / "uv.lock" / "uv.lock"
PIPFILE_LOCK = ASSETS / "lockfiles" / "Pipfile.lock" / "Pipfile.lock"
LINUX = Target(python="3.11", platform="linux_x86_64")


def write_result(path: Path, environment: Environment) -> Path:
    """The result.json ``gate check --out`` writes for this environment."""
    decision = evaluate(environment=environment, policy=Policy(path="p.yml", digest="sha256:0", effective={}),
                        matches=[], database=None, now=NOW)
    path.write_text(dump_json(result_document(decision)), encoding="utf-8")
    return path


def manifest(environment: Environment) -> list[dict[str, Any]]:
    return [manifest_entry(package) for package in environment.packages]


def edit(path: Path, change: Any) -> Path:
    document = json.loads(path.read_text(encoding="utf-8"))
    change(document)
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


@pytest.fixture
def result(tmp_path: Path) -> Path:
    packages = [
        Package(name="requests", version="2.32.3", pypi_name="requests",
                source=Source(kind=SourceKind.INDEX, url="https://pypi.org/simple"),
                hashes=(("sha256", "aa" * 32),), group="runtime"),
        Package(name="numpy", version="2.2.6", pypi_name="numpy", marker="python_full_version >= '3.11'"),
        Package(name="numpy", version="1.26.4", pypi_name="numpy", marker="python_full_version < '3.11'"),
        Package(name="tool", version="1.2", source=Source(kind=SourceKind.VCS, url="https://example.com/t.git",
                                                          commit="0123abc")),
        Package(name="unpinned", version=None, specifier=">=1"),
        Package(name="pytorch", version="2.5.1", ecosystem="conda", pypi_name="torch",
                source=Source(kind=SourceKind.CHANNEL, url="https://conda.anaconda.org/conda-forge")),
        Package(name="pytest", version="8.0", group="dev"),
    ]
    environment = Environment.create(source="uv.lock", kind="uv.lock", target=Target(), packages=packages)
    return write_result(tmp_path / "result.json", environment)


def test_a_result_json_gives_back_the_manifest_it_recorded(result: Path) -> None:
    recorded = json.loads(result.read_text(encoding="utf-8"))["environment"]["manifest"]
    baseline = load_baseline(result, target=None, groups=["dev"])
    assert manifest(baseline) == recorded
    assert baseline.kind == "result.json (uv.lock)"
    assert baseline.source == str(result)
    assert {p.location for p in baseline.packages} == {Location(file=str(result))}


def test_the_baseline_is_selected_like_the_candidate(result: Path) -> None:
    baseline = load_baseline(result, target=LINUX)
    assert [(p.name, p.version) for p in baseline.packages] == [
        ("pytorch", "2.5.1"), ("numpy", "2.2.6"), ("requests", "2.32.3"), ("tool", "1.2"), ("unpinned", None)]


def test_the_target_a_result_was_judged_for(tmp_path: Path) -> None:
    environment = Environment.create(source="/venv", kind="venv", target=LINUX, packages=[])
    baseline = load_baseline(write_result(tmp_path / "result.json", environment), target=None)
    assert baseline.target == LINUX


def test_a_lockfile_baseline(tmp_path: Path) -> None:
    baseline = load_baseline(UV_LOCK, target=LINUX)
    read = reader_for_lockfile(UV_LOCK).read(UV_LOCK, target=LINUX)
    assert baseline.packages == select(read, target=LINUX).environment.packages
    assert baseline.kind == "uv.lock"


def test_a_json_lockfile_is_not_taken_for_a_result() -> None:
    assert load_baseline(PIPFILE_LOCK, target=None).kind == "Pipfile.lock"


def test_an_environment_baseline() -> None:
    baseline = load_baseline(OLD, target=None)
    assert baseline.packages == read_environment(OLD).packages


def test_a_result_of_a_venv_check_round_trips(tmp_path: Path) -> None:
    environment = read_environment(OLD)
    baseline = load_baseline(write_result(tmp_path / "result.json", environment), target=None)
    assert manifest(baseline) == manifest(environment)
    assert baseline.digest == environment.digest


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d.update(schema_version=2),
     "schema_version: 2 is newer than this gate reads (1): upgrade the gate, or use a baseline it wrote"),
    (lambda d: d.update(schema_version="1"),
     "schema_version: not an integer: not a result.json written by gate check"),
    (lambda d: d.update(schema_version=0), "schema_version: 0 is not a schema version the gate ever wrote"),
    (lambda d: d["environment"].pop("manifest"),
     "environment.manifest: missing: this result.json is from a gate that did not record the packages it judged; "
     "run gate check --out again to make a baseline"),
    (lambda d: d.update(environment=[]), "environment: missing or not a JSON object"),
    (lambda d: d["environment"].update(manifest={}), "environment.manifest: not a list"),
    (lambda d: d["environment"]["manifest"][1].update(version=2.0),
     "environment.manifest[1].version: not a string or null"),
    (lambda d: d["environment"]["manifest"][0].pop("name"),
     "environment.manifest[0].name: missing or not a non-empty string"),
    (lambda d: d["environment"]["manifest"][2].update(ecosystem="npm"),
     "environment.manifest[2].ecosystem: 'npm' is not pypi or conda"),
    (lambda d: d["environment"]["manifest"][3]["source"].update(kind="ftp"),
     "environment.manifest[3].source.kind: 'ftp' is not one of index, vcs, url, path, editable, channel, unknown"),
    (lambda d: d["environment"]["manifest"][3].update(source=None),
     "environment.manifest[3].source: missing or not a JSON object"),
    (lambda d: d["environment"]["manifest"][4].update(hashes=["sha256-abc"]),
     "environment.manifest[4].hashes[0]: not <algorithm>:<hex digest>"),
    (lambda d: d["environment"]["manifest"][4].update(hashes="sha256:abc"),
     "environment.manifest[4].hashes: not a list"),
    (lambda d: d["environment"].update(target="3.11"), "environment.target: missing or not a JSON object"),
    # found by benchmarks/fuzz_inputs.py: left to the selection, whose message spanned lines and named no key
    (lambda d: d["environment"]["manifest"][4].update(marker="pkg["),
     "environment.manifest[4].marker: invalid environment marker 'pkg[' (Expected a marker variable or quoted "
     "string)"),
])
def test_a_result_the_gate_cannot_use(result: Path, change: Any, message: str) -> None:
    edit(result, change)
    with pytest.raises(InputError) as raised:
        load_baseline(result, target=None)
    assert raised.value.diagnostic() == f"{result}: {message}"


def test_a_truncated_result(result: Path) -> None:
    result.write_text(result.read_text(encoding="utf-8")[:-200], encoding="utf-8")
    with pytest.raises(InputError, match=r"result\.json:\d+: not valid JSON \("):
        load_baseline(result, target=None)


def test_a_missing_baseline(tmp_path: Path) -> None:
    with pytest.raises(InputError) as raised:
        load_baseline(tmp_path / "absent.json", target=None)
    assert raised.value.diagnostic() == f"{tmp_path / 'absent.json'}: no such file or directory"


def test_a_result_with_a_number_too_long_to_convert(result: Path) -> None:
    # found by benchmarks/fuzz_inputs.py: json's int() raised a bare ValueError (exit 70)
    text = result.read_text(encoding="utf-8")
    result.write_text(text.replace('"schema_version": 1', '"schema_version": ' + "1" * 5000), encoding="utf-8")
    line = text[: text.index('"schema_version"')].count("\n") + 1
    with pytest.raises(InputError) as raised:
        load_baseline(result, target=None)
    assert raised.value.diagnostic() == f"{result}:{line}: not valid JSON (a number of more than 4300 digits)"


def test_a_requirement_naming_no_project_matches_itself(tmp_path: Path) -> None:
    # a path kept as the name ("./sub") was normalised to "-/sub" when read back: drift with itself
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("-e ./sub\nrequests==2.31.0\n", encoding="utf-8")
    environment = reader_for_lockfile(requirements).read(requirements, target=None)
    baseline = load_baseline(write_result(tmp_path / "result.json", environment), target=None)
    assert [p.name for p in baseline.packages] == ["./sub", "requests"]
    assert baseline.digest == environment.digest
