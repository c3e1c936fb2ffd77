"""The Pipfile.lock reader: a hand-written lock (tests/assets/lockfiles/Pipfile.lock) with every
kind of entry and category, detection and errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gate.errors import InputError
from gate.model import Package, Source, SourceKind, Target
from gate.sources.pipfile_lock import PipfileLockReader
from tests.conftest import ASSETS

LOCK = ASSETS / "lockfiles" / "Pipfile.lock" / "Pipfile.lock"
PYPI = Source(kind=SourceKind.INDEX, url="https://pypi.org/simple")


def read(path: Path) -> dict[str, Package]:
    return {p.name: p for p in PipfileLockReader().read(path, target=None).packages}


def write(tmp_path: Path, document: dict[str, Any] | str) -> Path:
    path = tmp_path / "Pipfile.lock"
    path.write_text(document if isinstance(document, str) else json.dumps(document, indent=4), encoding="utf-8")
    return path


def lock(default: dict[str, Any], **others: Any) -> dict[str, Any]:
    meta = {"pipfile-spec": 6, "requires": {}, "sources": [{"name": "pypi", "url": "https://pypi.org/simple"}]}
    return {"_meta": meta, "default": default, **others}


def error(path: Path) -> str:
    with pytest.raises(InputError) as raised:
        PipfileLockReader().read(path, target=None)
    return str(raised.value)


def test_every_entry_with_its_pin_group_and_line() -> None:
    environment = PipfileLockReader().read(LOCK, target=None)
    assert environment.kind == "Pipfile.lock"
    assert environment.target == Target(python="3.11")  # _meta.requires.python_version
    rows = [(p.name, p.version, p.specifier, p.group, p.location.line if p.location else None)
            for p in environment.packages]
    assert rows == [
        ("gitpkg", None, "", "runtime", 40),
        ("loose", None, "", "runtime", 51),  # "version": "*" is no pin
        ("mylib", None, "", "runtime", 44),
        ("numpy", "2.1.0", None, "runtime", 24),
        ("pytest", "8.3.3", None, "dev", 62),
        ("remote", None, "", "runtime", 48),
        ("sphinx", "7.4.7", None, "docs", 77),  # a Pipenv category of its own
        ("torch", "2.3.1+cpu", None, "runtime", 33),
        ("urllib3", "2.2.2", None, "runtime", 54),  # listed in develop too, at the same pin: once
    ]


def test_sources_hashes_markers() -> None:
    packages = read(LOCK)
    assert packages["numpy"].source == PYPI
    assert packages["torch"].source == Source(kind=SourceKind.INDEX, url="https://download.pytorch.org/whl/cpu")
    assert packages["urllib3"].source == PYPI  # no "index": the first source
    assert packages["gitpkg"].source == Source(kind=SourceKind.VCS, url="https://github.com/example/gitpkg.git",
                                               commit="0123456789abcdef0123456789abcdef01234567")
    assert packages["mylib"].source == Source(kind=SourceKind.EDITABLE, url="./libs/mylib")
    assert packages["remote"].source == Source(kind=SourceKind.URL, url="https://example.com/remote-1.0.tar.gz")
    assert packages["numpy"].hashes == (
        ("sha256", "08695f5cb7ed6e0531a20572697297273c47b8cae5a63ffc6d6ed5c201be6e44"),
        ("sha256", "7dc90da0081f7e1da49ec4e398ede6a8e9cc4f5ebe5f9e06b443ed889ee9aaa2"),
    )
    assert packages["numpy"].marker == "python_version >= '3.10'"
    assert packages["torch"].marker is None
    assert all(p.requires == () for p in packages.values())  # Pipfile.lock records no graph


def test_other_entry_kinds(tmp_path: Path) -> None:
    path = write(tmp_path, lock({
        "branchy": {"git": "https://example.com/b.git", "ref": "main"},
        "localwheel": {"file": "./dist/localwheel-1.0-py3-none-any.whl"},
        "fileurl": {"file": "file:///srv/fileurl-1.0.tar.gz"},
        "windows": {"file": "C:\\wheels\\windows-1.0.whl"},
        "dir": {"path": "."},
        "ranged": {"version": ">=1.0,<2"},
        "exact": {"version": "===1.0-custom"},
    }, develop={"dir": {"path": "."}, "newer": {"version": "==2.0"}}, tools={"newer": {"version": "==3.0"}}))
    packages = PipfileLockReader().read(path, target=None).packages
    by_key = {(p.name, p.group): p for p in packages}
    assert by_key[("branchy", "runtime")].source == Source(kind=SourceKind.VCS, url="https://example.com/b.git")
    assert by_key[("localwheel", "runtime")].source.kind is SourceKind.PATH
    assert by_key[("fileurl", "runtime")].source.kind is SourceKind.PATH
    assert by_key[("windows", "runtime")].source.kind is SourceKind.PATH
    assert by_key[("dir", "runtime")].source == Source(kind=SourceKind.PATH, url=".")
    assert ("dir", "dev") not in by_key  # same (unpinned) entry as the runtime one
    assert (by_key[("ranged", "runtime")].version, by_key[("ranged", "runtime")].specifier) == (None, ">=1.0,<2")
    assert by_key[("exact", "runtime")].version == "1.0-custom"
    assert by_key[("newer", "dev")].version == "2.0"
    assert by_key[("newer", "tools")].version == "3.0"


def test_full_python_version_is_the_target(tmp_path: Path) -> None:
    document = lock({})
    document["_meta"]["requires"] = {"python_version": "3.10", "python_full_version": "3.10.4"}
    assert PipfileLockReader().read(write(tmp_path, document), target=None).target == Target(python="3.10.4")


def test_detects_pipfile_lock_by_content(tmp_path: Path) -> None:
    reader = PipfileLockReader()
    assert reader.detect(LOCK)
    compact = tmp_path / "compact.json"
    compact.write_text(json.dumps(lock({"a": {"version": "==1"}})), encoding="utf-8")
    assert reader.detect(compact)


@pytest.mark.parametrize("text", [
    "",
    "[]",
    '{"default": {}}',
    '{"_meta": {}}',
    '{"bomFormat": "CycloneDX", "components": []}',
    'version = 1\n[[package]]\nname = "a"\nsource = { registry = "x" }\n',
    "numpy==1.0\n",
])
def test_does_not_detect_other_files(tmp_path: Path, text: str) -> None:
    path = tmp_path / "Pipfile.lock"
    path.write_text(text, encoding="utf-8")
    assert not PipfileLockReader().detect(path)


def test_detection_never_raises_on_junk(tmp_path: Path) -> None:
    binary = tmp_path / "binary"
    binary.write_bytes(b'{"_meta": {}, "default": {}}\x00')
    assert not PipfileLockReader().detect(binary)
    assert not PipfileLockReader().detect(tmp_path)


def test_truncated_file(tmp_path: Path) -> None:
    text = LOCK.read_text(encoding="utf-8")
    path = write(tmp_path, text[: text.index('"torch"')])
    assert error(path) == f"{path}:33: not valid JSON (Expecting property name enclosed in double quotes)"


def test_binary_junk(tmp_path: Path) -> None:
    path = tmp_path / "Pipfile.lock"
    path.write_bytes(b'{"_meta":\n\xff}')
    assert error(path) == f"{path}:2: not valid UTF-8 (invalid start byte: byte 0xff at offset 10)"


def test_deeply_nested(tmp_path: Path) -> None:
    path = write(tmp_path, "[" * 100_000)
    assert error(path) == f"{path}: not valid JSON (nested too deeply)"


def test_a_number_too_long_to_convert(tmp_path: Path) -> None:
    # found by benchmarks/fuzz_inputs.py: json's int() raised a bare ValueError (exit 70)
    path = write(tmp_path, '{\n  "_meta": {"pipfile-spec": ' + "6" * 5000 + "}\n}")
    assert error(path) == f"{path}:2: not valid JSON (a number of more than 4300 digits)"


@pytest.mark.parametrize(("document", "message"), [
    ("[]", "expected an object, got an array"),
    ('{"default": {}}', "_meta: missing (is this a Pipfile.lock?)"),
    (lock({"numpy": {"version": 2}}), "default.numpy.version: expected a string, got a number"),
    (lock({"numpy": ["==1.0"]}), "default.numpy: expected an object, got an array"),
    (lock({"numpy": {"version": "==1.0", "hashes": "sha256:aa"}}),
     "default.numpy.hashes: expected an array, got a string"),
    (lock({"numpy": {"version": "==1.0", "hashes": ["aa"]}}),
     "default.numpy.hashes[0]: expected '<algorithm>:<hex digest>', got 'aa'"),
    (lock({"numpy": {"version": "==1.0", "markers": "python_version >"}}),
     "default.numpy.markers: invalid environment marker 'python_version >' "
     "(Expected a marker variable or quoted string)"),
    (lock({"numpy": {"version": "==1.0", "index": "private"}}),
     "default.numpy.index: 'private' is not a source in _meta.sources (known: pypi)"),
    (lock({"numpy": {"version": "latest"}}), "default.numpy.version: not a version specifier: 'latest'"),
    (lock({"numpy": {"version": "==1.0", "editable": "yes", "path": "."}}),
     "default.numpy.editable: expected true or false, got a string"),
    # found by benchmarks/fuzz_inputs.py: urlsplit raised ValueError (exit 70)
    (lock({"numpy": {"file": "https://[files.example/numpy-1.0.tar.gz"}}),
     "default.numpy.file: not a valid URL (Invalid IPv6 URL)"),
])
def test_wrong_types(tmp_path: Path, document: dict[str, Any] | str, message: str) -> None:
    path = write(tmp_path, document)
    text = path.read_text(encoding="utf-8")
    line = f":{text[: text.index('numpy')].count(chr(10)) + 1}" if "numpy" in text else ""
    assert error(path) == f"{path}{line}: {message}"


def test_bad_sources(tmp_path: Path) -> None:
    document = lock({})
    document["_meta"]["sources"] = [{"name": "pypi"}]
    path = write(tmp_path, document)
    assert error(path) == f"{path}: _meta.sources[0].url: missing"
