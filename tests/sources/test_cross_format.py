"""One resolution, several formats: the readers must agree on (name, version, hashes).

The Oyez-SA-ASR project in the corpus committed one resolution as uv.lock, pylock.toml and a
hashed requirements file; our own uv project is exported by uv itself, when uv is installed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from gate.model import Package, SourceKind, Target
from gate.sources import reader_for_lockfile
from gate.sources.selection import select
from tests.conftest import ASSETS, SHARED

CORPUS = SHARED / "corpus"
TARGET = Target(python="3.11", platform="linux_x86_64")

Key = tuple[str, str | None, tuple[tuple[str, str], ...]]


def packages(path: Path, target: Target = TARGET, groups: tuple[str, ...] = ()) -> set[Key]:
    """What a check would judge, less the project itself (an editable or directory entry)."""
    environment = reader_for_lockfile(path).read(path, target=target)
    selected = select(environment, target=target, groups=groups).environment.packages
    return {key(p) for p in selected if p.source.kind not in (SourceKind.EDITABLE, SourceKind.PATH)}


def key(package: Package) -> Key:
    return package.name, package.version, package.hashes


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is absent")
@pytest.mark.parametrize("target", [TARGET, Target(python="3.12", platform="macosx_arm64"), None])
def test_oyez_triple_agrees(target: Target | None) -> None:
    stem = "AlonKellner-RedHat__Oyez-SA-ASR__"
    # uv's exports include the dev group unless told otherwise, and do not mark it: compare like with like
    from_uv = packages(CORPUS / "uv.lock" / f"{stem}uv.lock", target or Target(), groups=("dev",))
    from_pylock = packages(CORPUS / "pylock.toml" / f"{stem}pylock.toml", target or Target())
    from_requirements = packages(CORPUS / "requirements-hashed" / f"{stem}requirements.txt", target or Target())
    assert from_pylock == from_requirements
    assert from_uv == from_pylock
    assert len(from_uv) >= 80


def uv_binary() -> str | None:
    """The uv that the test extra installs (its wheel knows where), else one on PATH."""
    try:
        import uv
    except ImportError:
        return shutil.which("uv")
    try:
        return str(uv.find_uv_bin())
    except FileNotFoundError:
        return shutil.which("uv")


@pytest.mark.skipif(uv_binary() is None, reason="uv is not installed")
def test_uv_exports_of_a_real_ml_lock_agree(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(ASSETS / "lockfiles" / "uv-project", project)
    common = [str(uv_binary()), "export", "--frozen", "--no-dev", "--quiet"]
    environment = {"UV_OFFLINE": "1", "HOME": str(tmp_path), "UV_NO_CONFIG": "1"}
    for fmt, name in (("pylock.toml", "pylock.toml"), ("requirements-txt", "requirements.txt")):
        subprocess.run([*common, "--format", fmt, "-o", str(tmp_path / name)], cwd=project, check=True,
                       env=environment, timeout=120)
    from_uv = packages(project / "uv.lock")
    from_pylock = packages(tmp_path / "pylock.toml")
    from_requirements = packages(tmp_path / "requirements.txt")
    names = {name for name, _, _ in from_uv}
    assert {"torch", "transformers", "scikit-learn", "pandas", "numpy"} <= names
    assert from_pylock == from_requirements
    assert from_uv == from_pylock
