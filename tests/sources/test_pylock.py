"""The PEP 751 pylock.toml reader on the project's hand-written asset and on small files made here."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gate.errors import InputError
from gate.model import Location, Package, Source, SourceKind, Target
from gate.sources import pylock as pylock_module
from gate.sources.pylock import PylockReader
from gate.sources.requirements import RequirementsReader
from tests.conftest import ASSETS

ASSET = ASSETS / "lockfiles" / "pylock" / "pylock.toml"
PYPI = Source(kind=SourceKind.INDEX, url="https://pypi.org/simple")
HEADER = 'lock-version = "1.0"\ncreated-by = "test"\n'
ENTRY = ('\n[[packages]]\nname = "alpha"\nversion = "1.0"\n'
         'wheels = [{ url = "https://files.example/alpha-1.0-py3-none-any.whl", hashes = { sha256 = "aa" } }]\n')


def write(tmp_path: Path, text: str, name: str = "pylock.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error(path: Path) -> str:
    with pytest.raises(InputError) as raised:
        PylockReader().read(path, target=None)
    return str(raised.value)


# --- the shipped asset ---------------------------------------------------------------------------


def test_asset_exactly() -> None:
    environment = PylockReader().read(ASSET, target=None)
    assert environment.kind == "pylock"
    assert environment.source == str(ASSET)
    assert environment.target == Target()  # requires-python and environments are bounds, not a target

    def at(line: int) -> Location:
        return Location(file=str(ASSET), line=line)

    assert list(environment.packages) == [
        Package(name="attrs", version="25.3.0", pypi_name="attrs", source=PYPI,
                hashes=(("sha256", "a" * 64), ("sha256", "b" * 64), ("sha512", "cccc")), location=at(11),
                requires=("six",)),
        Package(name="colorama", version="0.4.6", pypi_name="colorama", source=PYPI, hashes=(("sha256", "2222"),),
                marker='"dev" in dependency_groups or sys_platform == "win32"', location=at(49)),
        Package(name="cupy-cuda12x", version="13.4.1", pypi_name="cupy-cuda12x", source=PYPI,
                hashes=(("sha256", "3333"),), marker='"cuda" in extras and sys_platform == "linux"',
                group="optional:cuda", location=at(56)),
        Package(name="gatedemo", version=None, specifier="", pypi_name="gatedemo",
                source=Source(kind=SourceKind.EDITABLE, url="."), location=at(63)),
        Package(name="legacy", version="2.0.0.post01", pypi_name="legacy", source=PYPI, hashes=(("sha256", "ffff"),),
                location=at(36)),  # the version as written, though packaging normalises it to 2.0.0.post1
        Package(name="localwheel", version="1.0", pypi_name="localwheel",
                source=Source(kind=SourceKind.PATH, url="dist/localwheel-1.0-py3-none-any.whl"),
                hashes=(("sha256", "5555"),), location=at(81)),
        Package(name="model", version="3.8.0", pypi_name="model",
                source=Source(kind=SourceKind.URL, url="https://github.com/example/model/releases/download/v3.8.0/"
                                                        "model-3.8.0-py3-none-any.whl"),
                hashes=(("sha256", "4444"),), location=at(76)),
        Package(name="numpy", version="1.26.4", pypi_name="numpy", source=PYPI, hashes=(("sha256", "dddd"),),
                marker='python_full_version < "3.11"', location=at(22)),
        Package(name="numpy", version="2.2.6", pypi_name="numpy", source=PYPI, hashes=(("sha256", "eeee"),),
                marker='python_full_version >= "3.11"', location=at(29)),
        Package(name="pytest", version="8.4.1", pypi_name="pytest", source=PYPI, hashes=(("sha256", "1111"),),
                marker='"dev" in dependency_groups', group="dev", location=at(42)),
        Package(name="tool", version=None, specifier="", pypi_name="tool",
                source=Source(kind=SourceKind.VCS, url="git+https://github.com/example/tool.git",
                              commit="0123456789abcdef0123456789abcdef01234567"), location=at(72)),
        Package(name="vendored", version="0.1.0", pypi_name="vendored",
                source=Source(kind=SourceKind.PATH, url="vendor/vendored"), location=at(67)),
    ]


def test_a_later_minor_lock_version_is_read_with_a_note(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = write(tmp_path, 'lock-version = "1.1"\ncreated-by = "test"\n' + ENTRY)
    environment = PylockReader().read(path, target=None)
    assert [p.name for p in environment.packages] == ["alpha"]
    assert environment.notes == (f"{path}: lock-version 1.1 is newer than 1.0; keys added since were not read.",)
    assert PylockReader().read(ASSET, target=None).notes == ()


def test_group_of_a_marker(tmp_path: Path) -> None:
    def group(marker: str) -> str:
        return pylock_module._group(marker)

    assert group('sys_platform == "win32"') == "runtime"
    assert group('"dev" in dependency_groups') == "dev"
    assert group('"test" in dependency_groups or "docs" in dependency_groups') == "docs"  # sorted-first
    assert group('"dev" not in dependency_groups') == "runtime"
    assert group('"gpu" in extras and "dev" in dependency_groups') == "dev"  # needs both: the sorted-first
    assert group('"dev" in dependency_groups and python_version < "3.0"') == "runtime"  # holds nowhere: the
    # target selection leaves it out, and no group hides it
    assert group('"gpu" in extras') == "optional:gpu"
    assert group('"dev" in dependency_groups or python_version < "3.9"') == "runtime"  # runtime on 3.8


def test_inline_array_of_tables_locates_entries_by_name(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + 'packages = [\n'
                 '  { name = "alpha", version = "1.0", directory = { path = "alpha" } },\n'
                 '  { name = "beta", version = "2.0", directory = { path = "beta" } },\n'
                 '  { name = "alpha", version = "1.1", marker = "os_name == \'nt\'", directory = { path = "a" } },\n'
                 ']\n')
    assert [(p.name, p.location) for p in PylockReader().read(path, target=None).packages] == [
        ("alpha", Location(file=str(path), line=4)), ("alpha", Location(file=str(path), line=6)),
        ("beta", Location(file=str(path), line=5))]
    assert PylockReader().detect(path)


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "message"), [
    (HEADER + ENTRY[:-25], "7: not valid TOML (Expected '=' after a key in a key/value pair)"),
    (HEADER + ENTRY + 'name = "again"\n', "8: not valid TOML (Cannot overwrite a value)"),
    (HEADER + ENTRY + '\n[[packages]]\nname = "beta"\nversion = 2\n'
     'sdist = { url = "https://files.example/beta-2.tar.gz", hashes = { sha256 = "bb" } }\n',
     "9: packages[1].version: Unexpected type int (expected str)"),
    ('created-by = "test"\n' + ENTRY, " lock-version: Missing required value"),
    ('lock-version = "2.0"\ncreated-by = "test"\n' + ENTRY, "1: pylock version 2.0 is not supported"),
    (HEADER + 'packages = "none"\n', "3: packages: Unexpected type str (expected Sequence)"),
    (HEADER + ENTRY.replace("alpha-1.0-py3", "alpha-1.1-py3"),
     "4: packages[0].wheels[0]: Version in 'alpha-1.1-py3-none-any.whl' is not consistent with package "
     "version '1.0'"),
    (HEADER + ENTRY.replace('name = "alpha"', 'name = "Alpha_Lib"'),
     "4: packages[0].name: Name 'Alpha_Lib' is not normalized"),
    (HEADER + ENTRY + '\n[[packages]]\nname = "beta"\nversion = "2"\n',
     "9: packages[1]: Exactly one of vcs, directory, archive must be set if sdist and wheels are not set"),
    (HEADER + ENTRY.replace('version = "1.0"', 'version = "1.0"\nmarker = "python_version <<< \'3\'"'),
     "4: packages[0].marker: Expected a marker variable or quoted string"),
    (HEADER + ENTRY.replace('"aa"', '"not-hex"'), "4: packages[0]: hash sha256 = 'not-hex' is not hexadecimal"),
    (HEADER + ENTRY.replace('{ sha256 = "aa" }', "{}"),
     "4: packages[0].wheels[0].hashes: At least one hash must be provided"),
    (HEADER + ENTRY + 'dependencies = [{ version = "1" }]\n',
     "4: packages[0].dependencies[0].name: missing or not a string"),
])
def test_bad_files_are_one_line_errors(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    assert error(path) == f"{path}:{message}"


def test_binary_junk_missing_and_oversized(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    junk = tmp_path / "pylock.toml"
    junk.write_bytes(b'lock-version = "1.0"\n\xff\xfe\x00\x00')
    assert error(junk) == f"{junk}:2: not valid UTF-8 (invalid start byte: byte 0xff at offset 21)"
    nested = write(tmp_path, HEADER + "x = " + "[" * 100_000 + "]" * 100_000 + "\n")
    assert error(nested) == f"{nested}: not valid TOML (nested too deeply)"
    # found by benchmarks/fuzz_inputs.py: tomllib's int() raised a bare ValueError (exit 70)
    long_number = write(tmp_path, HEADER + ENTRY + "size = " + "1" * 5000 + "\n")
    assert error(long_number) == f"{long_number}:8: not valid TOML (a number of more than 4300 digits)"
    assert error(tmp_path / "absent.toml") == f"{tmp_path}/absent.toml: no such file"
    monkeypatch.setattr(pylock_module, "MAX_PYLOCK_BYTES", 10)
    path = write(tmp_path, HEADER + ENTRY)
    assert error(path) == f"{path}: {path.stat().st_size} bytes, over the limit of 10"


# --- detection -----------------------------------------------------------------------------------


def test_detects_pylock_files(tmp_path: Path) -> None:
    assert PylockReader().detect(ASSET)
    assert PylockReader().detect(write(tmp_path, "# exported\n" + HEADER + ENTRY, "anything.lock"))


@pytest.mark.parametrize("text", [
    "",
    # a requirements file saved as pylock.toml (uv export -o pylock.toml without --format)
    "# This file was autogenerated by uv\n-e .\nanyio==4.9.0 \\\n    --hash=sha256:" + "a" * 64 + "\n",
    'version = 1\nrequires-python = ">=3.11"\n\n[[package]]\nname = "alpha"\n',  # uv.lock
    HEADER,  # no packages
    '[tool.x]\nlock-version = "1.0"\n\n[[packages]]\nname = "alpha"\n',  # lock-version not top-level
    '{"lock-version": "1.0", "packages": []}',
])
def test_does_not_claim_other_files(tmp_path: Path, text: str) -> None:
    assert not PylockReader().detect(write(tmp_path, text))


def test_a_requirements_file_named_pylock_toml_goes_to_the_requirements_reader(tmp_path: Path) -> None:
    path = write(tmp_path, "-e .\nanyio==4.9.0\n")
    assert not PylockReader().detect(path)
    assert RequirementsReader().detect(path)


def test_detection_never_raises(tmp_path: Path) -> None:
    reader = PylockReader()
    assert not reader.detect(tmp_path / "absent.toml")
    assert not reader.detect(tmp_path)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert not reader.detect(fifo)
    junk = tmp_path / "junk"
    junk.write_bytes(b"lock-version = 1\n[[packages]]\n\x00\x01")
    assert not reader.detect(junk)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=len((HEADER + ENTRY).encode())), st.binary(max_size=8))
def test_a_cut_or_damaged_file_is_a_one_line_error(cut: int, junk: bytes) -> None:
    """A pylock file cut anywhere, with junk appended, reads or fails with one line."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "pylock.toml"
        path.write_bytes((HEADER + ENTRY).encode()[:cut] + junk)
        assert PylockReader().detect(path) in (True, False)
        try:
            PylockReader().read(path, target=None)
        except InputError as raised:
            assert "\n" not in str(raised)
