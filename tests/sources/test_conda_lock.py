"""conda-lock.yml: one package per entry and platform, managers, hashes, groups, errors, detection."""

from __future__ import annotations

from pathlib import Path

import pytest

from gate.errors import InputError
from gate.model import Source, SourceKind, Target
from gate.sources.conda_lock import CondaLockReader
from tests.conftest import ASSETS

ASSET = ASSETS / "lockfiles" / "conda-lock" / "conda-lock.yml"
READER = CondaLockReader()
LINUX = 'sys_platform == "linux" and platform_machine == "x86_64"'
MAC = 'sys_platform == "darwin" and platform_machine == "arm64"'
FORGE = "https://conda.anaconda.org/conda-forge"
HEADER = "version: 1\nmetadata:\n  platforms:\n  - linux-64\npackage:\n"
ENTRY = """\
- name: numpy
  version: 1.26.4
  manager: conda
  platform: linux-64
  dependencies:
    python: '>=3.11,<3.12.0a0'
  url: https://conda.anaconda.org/conda-forge/linux-64/numpy-1.26.4-py311h64a7726_0.conda
  hash:
    md5: a502d7aad449a1206efb366d6a12c52d
    sha256: 3f4365e11b28e244c95ba8579942b0802761ba7bb31c026f50d1a9ea9c728149
  category: main
  optional: false
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "conda-lock.yml"
    path.write_text(text, encoding="utf-8")
    return path


def error(path: Path) -> str:
    with pytest.raises(InputError) as raised:
        READER.read(path, target=None)
    return str(raised.value)


def test_asset_exactly() -> None:
    environment = READER.read(ASSET, target=None)
    assert environment.kind == "conda-lock"
    assert environment.target == Target(python="3.11.8")  # two platforms, one Python
    assert environment.notes == ()
    rows = [(p.ecosystem, p.name, p.version, p.pypi_name, p.source, p.marker, p.group,
             p.location.line if p.location else None, p.requires) for p in environment.packages]
    assert rows == [
        ("conda", "_libgcc_mutex", "0.1", None, Source(kind=SourceKind.CHANNEL, url=FORGE), LINUX, "runtime", 16, ()),
        ("conda", "numpy", "1.26.4", "numpy", Source(kind=SourceKind.CHANNEL, url=FORGE), LINUX, "runtime", 52,
         ("libgcc-ng >=12", "python >=3.11,<3.12.0a0", "python_abi 3.11.*")),
        ("conda", "pytest", "8.0.2", "pytest", Source(kind=SourceKind.CHANNEL, url=FORGE), LINUX, "dev", 90,
         ("python >=3.8",)),
        ("conda", "python", "3.11.8", None, Source(kind=SourceKind.CHANNEL, url=FORGE), MAC, "runtime", 40,
         ("python_abi 3.11.* *_cp311",)),
        ("conda", "python", "3.11.8", None, Source(kind=SourceKind.CHANNEL, url=FORGE), LINUX, "runtime", 27,
         ("python_abi 3.11.* *_cp311", "openssl >=3.2.1,<4.0a0")),
        ("conda", "pytorch", "2.1.0", "torch", Source(kind=SourceKind.CHANNEL, url=FORGE), MAC, "runtime", 66,
         ("numpy", "python >=3.11,<3.12.0a0")),
        # noarch, but locked for osx-arm64: the entry's platform is its marker
        ("conda", "tzdata", "2024a", None, Source(kind=SourceKind.CHANNEL, url=FORGE), MAC, "runtime", 79, ()),
        ("pypi", "einops", "0.7.0", "einops", Source(kind=SourceKind.INDEX, url="https://pypi.org/simple"), LINUX,
         "runtime", 102, ()),
        ("pypi", "toolkit", "0.4.0", "toolkit",
         Source(kind=SourceKind.VCS, url="git+https://github.com/example/toolkit.git",
                commit="0a1b2c3d4e5f60718293a4b5c6d7e8f901234567"), LINUX, "runtime", 112, ("einops", "numpy>=1.20")),
    ]
    hashes = {(p.name, p.marker): p.hashes for p in environment.packages}
    assert hashes[("numpy", LINUX)] == (("md5", "a502d7aad449a1206efb366d6a12c52d"),
                                        ("sha256", "3f4365e11b28e244c95ba8579942b0802761ba7bb31c026f50d1a9ea9c728149"))
    assert hashes[("einops", LINUX)] == (("sha256",
                                          "0f3096f26b914f465f6ff3c66f5478f9a5e380bb367ffc6493a68143fbbf1fd1"),)
    assert hashes[("toolkit", LINUX)] == ()  # conda-lock's "sha256" of a git checkout is its commit


def test_a_single_platform_lock_states_its_target(tmp_path: Path) -> None:
    environment = READER.read(write(tmp_path, HEADER + ENTRY), target=None)
    assert environment.target == Target(platform="linux_x86_64")
    assert [(p.name, p.version) for p in environment.packages] == [("numpy", "1.26.4")]


def test_versions_keep_their_digits(tmp_path: Path) -> None:
    """Unquoted, ``1.10`` is a YAML float and ``2`` an integer: the text is what counts."""
    text = HEADER + ENTRY.replace("version: 1.26.4", "version: 1.10") + ENTRY.replace("version: 1.26.4", "version: 2")
    assert [p.version for p in READER.read(write(tmp_path, text), target=None).packages] == ["1.10", "2"]


@pytest.mark.parametrize(("url", "source"), [
    ("https://download.pytorch.org/whl/cu121/torch-2.4.0%2Bcu121-cp311-cp311-linux_x86_64.whl",
     Source(kind=SourceKind.INDEX, url=None)),
    ("file:///wheels/torch-2.4.0-cp311-cp311-linux_x86_64.whl",
     Source(kind=SourceKind.PATH, url="file:///wheels/torch-2.4.0-cp311-cp311-linux_x86_64.whl")),
])
def test_pip_sources(tmp_path: Path, url: str, source: Source) -> None:
    entry = (f"- name: torch\n  version: 2.4.0\n  manager: pip\n  platform: linux-64\n  dependencies: {{}}\n"
             f"  url: {url}\n  hash:\n    sha256: {'ab' * 32}\n  category: main\n  optional: false\n")
    package = READER.read(write(tmp_path, HEADER + entry), target=None).packages[0]
    assert (package.ecosystem, package.source, package.hashes) == ("pypi", source, (("sha256", "ab" * 32),))


def test_pip_url_that_cannot_be_split(tmp_path: Path) -> None:
    # found by benchmarks/fuzz_inputs.py: urlsplit raised ValueError (exit 70)
    entry = ("- name: torch\n  version: 2.4.0\n  manager: pip\n  platform: linux-64\n  dependencies: {}\n"
             "  url: https://[files.example/torch-2.4.0-cp311-none-linux_x86_64.whl\n  category: main\n")
    path = write(tmp_path, HEADER + entry)
    assert error(path) == f"{path}:11: package[0].url: not a valid URL (Invalid IPv6 URL)"


@pytest.mark.parametrize(("old", "new", "message"), [
    ("version: 1.26.4", "version: [1]", ":7: package[0].version: expected a string, got a list"),
    ("version: 1.26.4", "version:", ":7: package[0].version: expected a string, got nothing (null)"),
    ("  version: 1.26.4\n", "", ":6: package[0].version: missing"),
    ("manager: conda", "manager: poetry", ":12: package[0].url: unknown manager 'poetry' (conda-lock writes conda or "
                                          "pip)"),
    ("platform: linux-64", "platform: linux-65", ":9: package[0].platform: 'linux-65' is not a conda platform"),
    ("numpy-1.26.4-py311h64a7726_0.conda", "numpy.whl", ":12: package[0].url: not a conda package URL "
                                                        "(<channel>/<subdir>/<name>-<version>-<build>.conda or "
                                                        ".tar.bz2)"),
    ("md5: a502d7aad449a1206efb366d6a12c52d", "md5: a502", ":14: package[0].hash.md5: not a md5 hex digest"),
    ("md5: a502d7aad449a1206efb366d6a12c52d", "sha1: a502", ":14: package[0].hash.sha1: unknown hash algorithm "
                                                            "(conda-lock writes md5 and sha256)"),
    ("  hash:\n    md5: a502d7aad449a1206efb366d6a12c52d\n", "  hash: abc\n  legacy:\n",
     ":13: package[0].hash: expected a mapping, got a string"),
    ("  dependencies:\n    python: '>=3.11,<3.12.0a0'\n", "  dependencies: [python]\n",
     ":10: package[0].dependencies: expected a mapping, got a list"),
    ("    python: '>=3.11,<3.12.0a0'\n", "    python: [3]\n", ":11: package[0].dependencies.python: expected a "
                                                                "string, got a list"),
    ("category: main", "category: [main]", ":16: package[0].category: expected a string, got a list"),
])
def test_bad_entries_are_one_line_errors(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in ENTRY
    path = write(tmp_path, HEADER + ENTRY.replace(old, new))
    assert error(path) == str(path) + message


@pytest.mark.parametrize(("text", "message"), [
    (HEADER.replace("version: 1", "version: 2") + ENTRY, ":1: version: conda-lock lockfile version 2 is not "
                                                         "supported (supported: 1)"),
    ("metadata: {platforms: [linux-64]}\npackage: []\n", ":1: version: missing"),
    ("version: 1\npackage: []\n", ":1: metadata: missing"),
    ("version: 1\nmetadata: {}\npackage: []\n", ":2: metadata.platforms: missing"),
    ("version: 1\nmetadata: {platforms: linux-64}\npackage: []\n", ":2: metadata.platforms: expected a list, got a "
                                                                    "string"),
    ("version: 1\nmetadata: {platforms: [linux-64]}\n", ":1: package: missing"),
    ("version: 1\nmetadata: {platforms: [linux-64]}\npackage: {}\n", ":3: package: expected a list, got a mapping"),
    ("version: 1\nmetadata: {platforms: [linux-64]}\npackage: [numpy]\n", ":3: package[0]: expected a mapping, got "
                                                                          "a string"),
    ("[version, 1]\n", ":1: expected a mapping, got a list"),
])
def test_bad_files_are_one_line_errors(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    assert error(path) == str(path) + message


def test_vcs_entry_without_a_commit(tmp_path: Path) -> None:
    entry = ("- name: toolkit\n  version: 0.4.0\n  manager: pip\n  platform: linux-64\n  dependencies: {}\n"
             "  url: git+https://github.com/example/toolkit.git@main\n  category: main\n  optional: false\n")
    path = write(tmp_path, HEADER + entry)
    assert error(path) == f"{path}:11: package[0].url: a VCS URL without an @<commit>"


def test_truncated_binary_and_bomb(tmp_path: Path) -> None:
    text = ASSET.read_text(encoding="utf-8")
    in_entry = write(tmp_path, text[: text.index("  dependencies:\n    python: '>=3.8'")])
    assert error(in_entry) == f"{in_entry}:90: package[6].url: missing"
    in_name = write(tmp_path, text[: text.index("- name: pytest")] + "- name: pyt")
    assert error(in_name) == f"{in_name}:90: package[6].version: missing"
    in_string = write(tmp_path, text[: text.index("    sha256: f33559d7")] + "    sha256: 'f33")
    assert error(in_string) == (f"{in_string}:37: not valid YAML (while scanning a quoted scalar: found unexpected "
                                "end of stream)")
    binary = tmp_path / "binary.yml"
    binary.write_bytes(HEADER.encode() + b"\xc3\x28")
    assert error(binary) == f"{binary}:6: not valid UTF-8 (invalid continuation byte: byte 0xc3 at offset 56)"
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, 10):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 9) + "]")
    bomb = write(tmp_path, "\n".join(lines) + "\n" + HEADER + "- *a9\n")
    assert error(bomb) == f"{bomb}:1: more than 5000000 YAML nodes once aliases are expanded (a YAML bomb?)"


def test_detects_lockfiles(tmp_path: Path) -> None:
    assert READER.detect(ASSET)
    assert READER.detect(write(tmp_path, HEADER + ENTRY))
    assert READER.detect(write(tmp_path, "version: 2\nmetadata:\n  platforms: [linux-64]\npackage: []\n"))


@pytest.mark.parametrize("text", [
    "",
    "dependencies:\n  - numpy\n",
    "version: 1\npackage:\n- name: numpy\n",  # no metadata
    "@EXPLICIT\n",
    '{"version": 1, "metadata": {"platforms": []}, "package": []}',
])
def test_does_not_claim_other_files(tmp_path: Path, text: str) -> None:
    assert not READER.detect(write(tmp_path, text))


def test_detection_never_raises(tmp_path: Path) -> None:
    binary = tmp_path / "binary"
    binary.write_bytes(HEADER.encode() + b"\x00")
    assert not READER.detect(binary)
    assert not READER.detect(tmp_path)
    assert not READER.detect(tmp_path / "absent")
