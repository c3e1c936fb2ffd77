"""The uv.lock, poetry.lock, Pipfile.lock and pdm.lock readers on the real lockfiles of the corpus
(../shared/corpus, skipped when absent): every PROVENANCE.tsv row of those formats.

The package counts are PROVENANCE's exactly: it counts entries, and so do the readers, keeping
the workspace's own project (uv writes it as an ``editable`` entry; its pylock.toml and
requirements exports list it too) and every duplicate-name entry of a forked resolution (one
per marker branch)."""

from __future__ import annotations

import csv
import itertools
import re
import tomllib
from collections import Counter
from functools import cache
from pathlib import Path

import pytest
from packaging.markers import Marker

from gate.model import Environment, SourceKind
from gate.sources.base import Reader, duplicate_packages
from gate.sources.pdm_lock import PdmLockReader
from gate.sources.pipfile_lock import PipfileLockReader
from gate.sources.poetry_lock import PoetryLockReader
from gate.sources.uv_lock import UvLockReader
from tests.conftest import SHARED

CORPUS = SHARED / "corpus"
READERS: dict[str, Reader] = {
    "uv.lock": UvLockReader(),
    "poetry.lock": PoetryLockReader(),
    "Pipfile.lock": PipfileLockReader(),
    "pdm.lock": PdmLockReader(),
}
HEX = re.compile(r"[0-9a-f]+")

if not CORPUS.is_dir():
    pytest.skip("../shared/corpus is absent", allow_module_level=True)


def provenance() -> list[dict[str, str]]:
    with open(CORPUS / "PROVENANCE.tsv", encoding="utf-8", newline="") as handle:
        return [row for row in csv.DictReader(handle, delimiter="\t") if row["format"] in READERS]


ROWS = provenance()


@cache
def environment(local_file: str) -> Environment:
    row = next(r for r in ROWS if r["local_file"] == local_file)
    return READERS[row["format"]].read(CORPUS / local_file, target=None)


def test_every_format_has_rows() -> None:
    assert Counter(row["format"] for row in ROWS) == {"uv.lock": 5, "poetry.lock": 4, "Pipfile.lock": 3, "pdm.lock": 4}


@pytest.mark.parametrize("row", ROWS, ids=[row["local_file"] for row in ROWS])
def test_counts_names_versions_lines(row: dict[str, str]) -> None:
    read = environment(row["local_file"])
    assert read.kind == row["format"]
    assert len(read.packages) == int(row["package_count"])
    lines = (CORPUS / row["local_file"]).read_text(encoding="utf-8").splitlines()
    for package in read.packages:
        assert package.name and package.name == package.name.lower()
        assert package.pypi_name == package.name
        # only a workspace's own project may lack a version (uv: a dynamic version)
        assert package.version is not None or package.source.kind is SourceKind.EDITABLE
        assert package.location is not None and package.location.line is not None
        text = lines[package.location.line - 1]
        if row["format"] == "Pipfile.lock":
            assert text.strip().startswith('"') and text.strip().endswith("{")
        else:
            assert text == "[[package]]"
        if package.marker is not None:
            Marker(package.marker)
        assert all(algorithm == "sha256" and len(digest) == 64 and HEX.fullmatch(digest)
                   for algorithm, digest in package.hashes)
        assert package.group


@pytest.mark.parametrize("row", [r for r in ROWS if r["format"] == "uv.lock"], ids=lambda r: r["local_file"])
def test_uv_notes(row: dict[str, str]) -> None:
    """What PROVENANCE says of each uv.lock: duplicate-name entries, sources, local versions."""
    read = environment(row["local_file"])
    names = Counter(p.name for p in read.packages)
    duplicates = re.search(r"(\d+) duplicate-name entries", row["notes"])
    assert duplicates is not None
    assert sum(count - 1 for count in names.values() if count > 1) == int(duplicates.group(1))
    assert duplicate_packages(read.packages) == ()  # forked twins differ by marker
    kinds = {p.source.kind for p in read.packages}
    assert SourceKind.EDITABLE in kinds
    assert (SourceKind.VCS in kinds) == ("git" in row["notes"].split("sources: ")[1].split(";")[0].split(","))
    for registry in re.findall(r"nonpypi-registry:(\S+?)[,;]", row["notes"]):
        assert any(p.source.url == registry for p in read.packages)
    local = re.search(r"local versions: (\S+)", row["notes"])
    pins = {(p.name, p.version) for p in read.packages}
    for pin in local.group(1).split(",") if local else ():
        name, version = pin.split("==")
        assert (name, version) in pins


def test_pipfile_sections() -> None:
    for row in (r for r in ROWS if r["format"] == "Pipfile.lock"):
        sections = re.search(r"default=(\d+) develop=(\d+)", row["notes"])
        assert sections is not None, row["notes"]
        default, develop = map(int, sections.groups())
        groups = Counter(p.group for p in environment(row["local_file"]).packages)
        assert groups["runtime"] == default and groups["dev"] == develop
        assert environment(row["local_file"]).target.python is not None  # _meta.requires.python_version


def test_pdm_groups() -> None:
    for row in (r for r in ROWS if r["format"] == "pdm.lock"):
        listed = re.search(r"groups=\[([^\]]*)\]", row["notes"])
        assert listed is not None, row["notes"]
        declared = set(listed.group(1).replace("'", "").split(", "))
        groups = {p.group for p in environment(row["local_file"]).packages}
        assert groups == {"runtime" if g == "default" else g for g in declared}


def test_a_poetry_git_dependency_and_a_legacy_index() -> None:
    lerobot = {p.name: p for p in environment("poetry.lock/huggingface__lerobot__poetry.lock").packages}
    assert lerobot["pyrender"].source.kind is SourceKind.VCS
    assert lerobot["pyrender"].source.commit == "a59963ef890891656fd17c90e12d663233dcaa99"
    surya = {p.name: p for p in environment("poetry.lock/datalab-to__surya__poetry.lock").packages}
    assert surya["libtpu-nightly"].source.url == "https://storage.googleapis.com/libtpu-releases/index.html"
    assert surya["libtpu-nightly"].version == "0.1.dev20241010+nightly.cleanup"


# --- detection ---------------------------------------------------------------------------------------

CORPUS_FILES = sorted(path for path in CORPUS.glob("*/*") if path.is_file())


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_detection_says_yes_exactly_on_its_own_format(path: Path) -> None:
    detected = [name for name, reader in READERS.items() if reader.detect(path)]
    assert detected == ([path.parent.name] if path.parent.name in READERS else [])


# --- one resolution, two formats: the markers mean the same ---------------------------------------------


def test_oyez_uv_lock_markers_mean_what_uv_exported() -> None:
    """uv computed a marker for every package when it exported the lock to pylock.toml; the
    markers this reader computes from the lock's graph hold in exactly the same environments
    (over every Python the project supports and every platform its markers mention)."""
    stem = "AlonKellner-RedHat__Oyez-SA-ASR__"
    ours = {(p.name, p.version): p.marker for p in environment(f"uv.lock/{stem}uv.lock").packages}
    with open(CORPUS / "pylock.toml" / f"{stem}pylock.toml", "rb") as handle:
        exported = {(p["name"], p.get("version")): p.get("marker") for p in tomllib.load(handle)["packages"]}
    assert ours.keys() == exported.keys()
    systems = {"linux": "Linux", "darwin": "Darwin", "win32": "Windows", "emscripten": "Emscripten"}
    implementations = {"cpython": "CPython", "pypy": "PyPy"}
    for python, platform, implementation, machine in itertools.product(
            ["3.10.0", "3.10.12", "3.11.0", "3.12.4", "3.13.1", "3.14.0"], systems, implementations,
            ["x86_64", "aarch64", "AMD64", "arm64"]):
        variables = {
            "python_version": python.rsplit(".", 1)[0], "python_full_version": python,
            "implementation_version": python, "sys_platform": platform, "platform_system": systems[platform],
            "os_name": "nt" if platform == "win32" else "posix", "implementation_name": implementation,
            "platform_python_implementation": implementations[implementation], "platform_machine": machine,
            "platform_release": "", "platform_version": "", "extra": "", "extras": frozenset(),
            "dependency_groups": frozenset({"dev"}),
        }
        for key, marker in ours.items():
            mine = Marker(marker).evaluate(dict(variables), context="lock_file") if marker else True
            theirs = Marker(exported[key]).evaluate(dict(variables), context="lock_file") if exported[key] else True
            assert mine == theirs, (key, marker, exported[key], python, platform, implementation, machine)
