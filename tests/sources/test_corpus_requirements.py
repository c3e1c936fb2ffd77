"""The requirements and pylock.toml readers on every real file of those formats in ../shared/corpus.

PROVENANCE.tsv gives each file's package count, and for some the hash totals and the number of
duplicate-name (forked) entries; all of them are asserted as given. Its "N unpinned/ranged
entries" note is a rougher count (it leaves out ``==X.*`` wildcards in one file and VCS
requirements in another), so the unpinned counts asserted here are the reader's own, with the
difference explained per file.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path

import pytest

from gate.model import Environment, SourceKind
from gate.sources.pylock import PylockReader
from gate.sources.requirements import RequirementsReader
from tests.conftest import SHARED

CORPUS = SHARED / "corpus"
FORMATS = ("requirements-hashed", "requirements-pinned", "pylock.toml")
OYEZ = {
    "pylock": "pylock.toml/AlonKellner-RedHat__Oyez-SA-ASR__pylock.toml",
    "requirements": "requirements-hashed/AlonKellner-RedHat__Oyez-SA-ASR__requirements.txt",
}

# Unpinned packages per file where PROVENANCE's note counts otherwise.
UNPINNED = {
    # onnx>=, ray>, and "-e git+...@<commit>#egg=transformers" (an editable VCS checkout has no
    # version; PROVENANCE does not count it as it is held to a commit)
    "huggingface__transformers-research-projects__decision_transformer__requirements.txt": 3,
    # dpu_utils (bare), and git+https://.../accelerate.git@<commit> (held to a commit, as above)
    "huggingface__transformers-research-projects__codeparrot__requirements.txt": 2,
    # 17 ranged or bare names, plus 9 ==X.Y.* wildcards PROVENANCE counts as pins
    "oobabooga__text-generation-webui__requirements__full__requirements.txt": 26,
    # 5 ranged or bare names, plus 3 "name @ git+https://..." without a revision
    "HumanSignal__label-studio-ml-backend__label_studio_ml__examples__segment_anything_model__requirements.txt": 8,
    # the project itself, directory = { path = ".", editable = true }, has no version in a pylock
    "CSSLab__maia3__pylock.toml": 1,
    "AlphaSphereDotAI__vocalizr__pylock.toml": 1,
    "AlonKellner-RedHat__Oyez-SA-ASR__pylock.toml": 1,
}

# Entries beyond the first for a name, where PROVENANCE does not count them in its notes.
DUPLICATES = {
    # numpy and numpy-typing-compat, each twice under complementary python_full_version markers
    "jax-ml__jax__build__requirements_lock_3_12.txt": 2,
    # exllamav3, flash-attn, ik-llama-cpp-binaries, llama-cpp-binaries: a Windows and a Linux wheel each
    "oobabooga__text-generation-webui__requirements__full__requirements.txt": 4,
    # ipython, numpy, pandas: the same forked resolution as the project's pylock.toml and uv.lock
    "AlonKellner-RedHat__Oyez-SA-ASR__requirements.txt": 3,
}


def rows() -> list[dict[str, str]]:
    if not (CORPUS / "PROVENANCE.tsv").is_file():
        return []
    with open(CORPUS / "PROVENANCE.tsv", encoding="utf-8", newline="") as handle:
        return [row for row in csv.DictReader(handle, delimiter="\t") if row["format"].startswith(FORMATS)]


@pytest.fixture(autouse=True)
def _corpus_present() -> None:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is absent")


def read(path: Path) -> Environment:
    """The reader detection picks between the two, as the registry will (pylock first)."""
    if PylockReader().detect(path):
        assert not RequirementsReader().detect(path)
        return PylockReader().read(path, target=None)
    assert RequirementsReader().detect(path)
    return RequirementsReader().read(path, target=None)


@pytest.mark.parametrize("row", rows(), ids=lambda row: row["local_file"])
def test_corpus_file(row: dict[str, str]) -> None:
    path = CORPUS / row["local_file"]
    environment = read(path)
    expected_kind = "requirements" if row["format"].startswith("requirements") or "MISNAMED" in row["format"] \
        else "pylock"
    assert environment.kind == expected_kind
    packages = environment.packages
    assert len(packages) == int(row["package_count"])
    for package in packages:
        assert package.name
        assert package.location is not None and package.location.file == str(path)
        assert package.location.line is not None and package.location.line >= 1
        assert (package.version is None) == (package.specifier is not None)
        assert package.group == "runtime"
    if row["format"] == "requirements-hashed" or "MISNAMED" in row["format"]:
        # every entry of a hashed file is pinned and hashed, but the project's own "-e ."
        for package in packages:
            if package.source.kind is SourceKind.EDITABLE:
                assert (package.name, package.version, package.hashes) == (".", None, ())
            else:
                assert package.version is not None and package.hashes, package
    hashes = re.search(r"has hashes \((\d+) total, (\d+) reqs with >1 hash\)", row["notes"])
    if hashes:
        assert sum(len(p.hashes) for p in packages) == int(hashes.group(1))
        assert sum(len(p.hashes) > 1 for p in packages) == int(hashes.group(2))
    forked = re.search(r"(\d+) duplicate-name entries", row["notes"])
    names = Counter(p.name for p in packages)
    extra_entries = sum(count - 1 for count in names.values())
    assert extra_entries == DUPLICATES.get(path.name, int(forked.group(1)) if forked else 0)
    unpinned = sum(p.version is None for p in packages)
    note = re.search(r"(\d+) unpinned/ranged entries", row["notes"])
    assert unpinned == UNPINNED.get(path.name, int(note.group(1)) if note else 0)


def test_every_row_of_the_formats_is_covered() -> None:
    assert len(rows()) == 19
    assert {row["format"] for row in rows()} == {
        "requirements-hashed", "requirements-pinned", "pylock.toml",
        "pylock.toml (MISNAMED: content is requirements.txt)"}


def test_the_misnamed_pylock_toml_is_read_as_requirements() -> None:
    path = CORPUS / "pylock.toml" / "Cambridge-ICCS__differentiable-programming-summer-school-2025__pylock.toml"
    assert not PylockReader().detect(path)
    assert RequirementsReader().detect(path)
    assert len(RequirementsReader().read(path, target=None).packages) == 137


def test_forked_resolutions_keep_every_branch_with_its_marker() -> None:
    jax = RequirementsReader().read(CORPUS / "requirements-hashed" / "jax-ml__jax__build__requirements_lock_3_12.txt",
                                    target=None)
    numpy = [p for p in jax.packages if p.name == "numpy"]
    assert len(numpy) == 2 and len({p.marker for p in numpy}) == 2 and all(p.marker for p in numpy)
    oyez = PylockReader().read(CORPUS / OYEZ["pylock"], target=None)
    for name in ("ipython", "numpy", "pandas"):
        branches = [p for p in oyez.packages if p.name == name]
        assert len(branches) == 2 and len({p.marker for p in branches}) == 2, name


def test_oyez_pylock_and_requirements_are_one_resolution() -> None:
    """The same ``uv`` resolution exported twice. The project itself is left out of the
    comparison: both list it as an editable of the directory ("-e ." and ``directory = { path
    = ".", editable = true }``), but the requirements file does not name it (the reader
    would need the project's pyproject.toml, which is not in the corpus), so it is "." there
    and "oyez-sa-asr" in the pylock file. Markers agree too, as both are normalised."""
    pylock = PylockReader().read(CORPUS / OYEZ["pylock"], target=None)
    requirements = RequirementsReader().read(CORPUS / OYEZ["requirements"], target=None)

    def resolution(environment: Environment) -> set[tuple[str, str | None, tuple[tuple[str, str], ...]]]:
        return {(p.name, p.version, p.hashes) for p in environment.packages
                if p.source.kind is not SourceKind.EDITABLE}

    def markers(environment: Environment) -> set[tuple[str, str | None, str | None]]:
        return {(p.name, p.version, p.marker) for p in environment.packages
                if p.source.kind is not SourceKind.EDITABLE}

    roots = {(p.name, p.source.url) for e in (pylock, requirements) for p in e.packages
             if p.source.kind is SourceKind.EDITABLE}
    assert roots == {("oyez-sa-asr", "."), (".", ".")}
    assert len(resolution(pylock)) == 92
    assert resolution(pylock) == resolution(requirements)
    assert markers(pylock) == markers(requirements)
