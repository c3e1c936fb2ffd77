"""The conda readers on the real conda files of ../shared/corpus (PROVENANCE formats
conda-environment, conda-explicit and conda-lock): counts, detection, and what must hold."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from packaging.markers import Marker

from gate.model import Package, SourceKind
from gate.sources.base import Reader
from gate.sources.conda_environment import CondaEnvironmentReader
from gate.sources.conda_explicit import CondaExplicitReader
from gate.sources.conda_lock import CondaLockReader
from gate.sources.cyclonedx import CycloneDxReader
from tests.conftest import SHARED

CORPUS = SHARED / "corpus"
READERS: dict[str, Reader] = {
    "conda-environment": CondaEnvironmentReader(),
    "conda-explicit": CondaExplicitReader(),
    "conda-lock": CondaLockReader(),
}
ALL_OURS: dict[str, Reader] = {**READERS, "cyclonedx": CycloneDxReader()}
# Where our count differs from PROVENANCE's, and why.
EXPECTED_COUNTS = {
    # PROVENANCE counts the pip section's 14 items; one is the option "--extra-index-url ...", not a package.
    "conda-environment/Clay-foundation__model__environment.yml": 15,
}
# conda packages that are not Python packages, some with an unrelated PyPI namesake: never matched.
NEVER_PYPI = {"python", "python_abi", "_libgcc_mutex", "_openmp_mutex", "cudatoolkit", "mkl", "openssl", "tzdata",
              "libgcc-ng", "tk", "zlib", "exiv2", "brotli", "lmdb", "zstd", "py-opencv", "pandoc", "graphviz"}

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is absent")


def corpus_rows() -> list[tuple[str, str, int]]:
    """(local_file, format, package_count) of every conda row of PROVENANCE.tsv."""
    provenance = CORPUS / "PROVENANCE.tsv"
    if not provenance.is_file():
        return []
    with provenance.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return [(row["local_file"], row["format"], int(row["package_count"])) for row in rows
            if row["format"] in READERS]


def corpus_files() -> list[Path]:
    return sorted(path for path in CORPUS.glob("*/*") if path.is_file()) if CORPUS.is_dir() else []


ROWS = corpus_rows()


def test_the_corpus_has_every_conda_format() -> None:
    assert {fmt for _, fmt, _ in ROWS} == set(READERS)
    assert len(ROWS) == 12


@pytest.mark.parametrize(("local_file", "fmt", "count"), ROWS, ids=[row[0] for row in ROWS])
def test_reads_every_conda_file(local_file: str, fmt: str, count: int) -> None:
    path = CORPUS / local_file
    reader = READERS[fmt]
    environment = reader.read(path, target=None)
    assert environment.kind == fmt
    assert len(environment.packages) == EXPECTED_COUNTS.get(local_file, count)
    lines = path.read_text(encoding="utf-8").count("\n") + 1
    for package in environment.packages:
        assert package.name
        assert package.version is not None or package.specifier is not None
        if fmt != "conda-environment":
            assert package.version, package  # lockfiles pin everything
        assert package.location is not None and package.location.file == str(path)
        assert package.location.line is not None and 1 <= package.location.line <= lines
        if package.marker is not None:
            Marker(package.marker)
        if package.ecosystem == "conda":
            assert package.source.kind is SourceKind.CHANNEL
            assert package.name not in NEVER_PYPI or package.pypi_name is None, package.name
        elif package.source.kind in (SourceKind.PATH, SourceKind.EDITABLE) and package.name == ".":
            assert package.pypi_name is None  # "-e .": the project itself, nameless, never matched
        else:
            assert package.pypi_name == package.name
        assert package.hashes == tuple(sorted(set(package.hashes)))


@pytest.mark.parametrize("path", corpus_files(), ids=lambda path: f"{path.parent.name}/{path.name}")
def test_detection_claims_exactly_our_formats(path: Path) -> None:
    claimed = {name for name, reader in ALL_OURS.items() if reader.detect(path)}
    expected = {path.parent.name} & set(READERS)
    assert claimed == expected


def by_key(packages: tuple[Package, ...]) -> set[tuple[str, str | None, str, str | None, str | None, str | None]]:
    return {(p.name, p.version, dict(p.hashes)["md5"], p.source.url, p.marker, p.pypi_name) for p in packages}


def test_a_conda_lock_and_the_spec_file_rendered_from_it_agree() -> None:
    """CryoInTheCloud committed its conda-lock.yml (linux-64 only) and the explicit file
    conda-lock rendered from it: 983 packages each, which must read the same."""
    stem = "CryoInTheCloud__image-cryo-python-AI__"
    lock = CondaLockReader().read(CORPUS / "conda-lock" / f"{stem}conda-lock.yml", target=None)
    explicit = CondaExplicitReader().read(CORPUS / "conda-explicit" / f"{stem}conda-linux-64.lock", target=None)
    assert by_key(lock.packages) == by_key(explicit.packages)
    assert len(by_key(lock.packages)) == 983
    assert lock.target == explicit.target


def test_the_environment_file_and_its_lock_name_the_same_projects() -> None:
    """Every spec of CryoInTheCloud's environment.yml is locked, and where the environment
    reader gives a PyPI name (from the tables alone) the lock reader gives the same one."""
    stem = "CryoInTheCloud__image-cryo-python-AI__"
    locked = {p.name: p for p in CondaLockReader().read(CORPUS / "conda-lock" / f"{stem}conda-lock.yml",
                                                        target=None).packages}
    environment = CondaEnvironmentReader().read(CORPUS / "conda-environment" / f"{stem}environment.yml", target=None)
    for package in environment.packages:
        assert package.name in locked
        if package.pypi_name is not None:
            assert locked[package.name].pypi_name == package.pypi_name


def test_pytorch_is_matched_as_torch_and_old_stacks_are_pinned() -> None:
    explicit = CondaExplicitReader().read(
        CORPUS / "conda-explicit" / "AKASH2907__semi_sup_active_learning__spec-file.txt", target=None)
    by_name = {p.name: p for p in explicit.packages}
    assert (by_name["pytorch"].version, by_name["pytorch"].pypi_name) == ("1.2.0", "torch")
    assert (by_name["tensorflow-base"].version, by_name["tensorflow-base"].pypi_name) == ("1.13.1", "tensorflow")
    assert by_name["cudatoolkit"].pypi_name is None
    environment = CondaEnvironmentReader().read(CORPUS / "conda-environment" / "3dlg-hcvc__paris__environment.yml",
                                                target=None)
    pytorch = next(p for p in environment.packages if p.name == "pytorch")
    assert (pytorch.version, pytorch.pypi_name, pytorch.ecosystem) == ("1.11.0", "torch", "conda")


def test_multi_platform_locks_mark_each_entry_with_its_platform() -> None:
    environment = CondaLockReader().read(CORPUS / "conda-lock" / "Clay-foundation__model__conda-lock.yml",
                                         target=None)
    assert environment.target.platform is None
    markers = {p.marker for p in environment.packages}
    assert markers == {'sys_platform == "linux" and platform_machine == "x86_64"',
                       'sys_platform == "darwin" and platform_machine == "x86_64"',
                       'sys_platform == "darwin" and platform_machine == "arm64"'}
    poprox = CondaLockReader().read(CORPUS / "conda-lock" / "CCRI-POPROX__poprox-recommender__conda-lock.yml",
                                    target=None)
    assert {p.group for p in poprox.packages} == {"runtime", "dev"}
    vcs = [p for p in poprox.packages if p.source.kind is SourceKind.VCS]
    assert len(vcs) == 3 and all(p.hashes == () and p.source.commit for p in vcs)
