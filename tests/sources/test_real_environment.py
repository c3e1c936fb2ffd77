"""The reader against importlib.metadata on a real environment: the one running these tests.

Whatever that environment holds (the dev venv, CI's fresh .venv with the gate installed
editable, a system Python) the reader must list the same distributions with the same
versions, requirements and licence fields, without running anything in it."""

from __future__ import annotations

import importlib.metadata
import json
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from gate.model import Package, SourceKind
from gate.sources.venv import SitePackagesReader, VenvReader

SITE_DIRS = sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})


def first(values: list[str] | None) -> str | None:
    return values[0] if values else None


def ours(directory: str) -> list[Package]:
    packages = SitePackagesReader().read(Path(directory), target=None).packages
    # importlib.metadata finds legacy editables only through the .pth files on sys.path.
    return [p for p in packages if p.location is None or not p.location.file.endswith(".egg-link")]


@pytest.mark.parametrize("directory", SITE_DIRS)
def test_same_distributions_as_importlib_metadata(directory: str) -> None:
    if not Path(directory).is_dir():
        pytest.skip(f"{directory} does not exist")
    theirs = sorted((canonicalize_name(d.metadata["Name"]), d.version)
                    for d in importlib.metadata.distributions(path=[directory]))
    assert sorted((p.name, p.version) for p in ours(directory)) == theirs
    assert len(theirs) >= 5  # pytest, hypothesis, packaging, ... are installed here


@pytest.mark.parametrize("directory", SITE_DIRS)
def test_same_requirements_and_licence_fields_as_importlib_metadata(directory: str) -> None:
    if not Path(directory).is_dir():
        pytest.skip(f"{directory} does not exist")
    expected = {}
    for dist in importlib.metadata.distributions(path=[directory]):
        metadata = dist.metadata
        expected[(canonicalize_name(metadata["Name"]), dist.version)] = (
            tuple(dist.requires or ()),
            first(metadata.get_all("License")),
            first(metadata.get_all("License-Expression")),
            tuple(c for c in metadata.get_all("Classifier") or () if c.startswith("License ::")),
            (dist.read_text("INSTALLER") or "").strip() or None,
        )
    got = {(p.name, p.version): (p.requires, redent(p.license.text), p.license.expression, p.license.classifiers,
                                 p.installer) for p in ours(directory)}
    assert got == expected


def redent(value: str | None) -> str | None:
    """importlib.metadata undoes setuptools' 8-space folding of multi-line fields; the gate keeps
    the field as the core-metadata parser (packaging.metadata) gives it. Compare like with like."""
    if not value or "\n" not in value:
        return value
    return textwrap.dedent(" " * 8 + value)


def test_the_running_virtualenv_read_as_a_venv() -> None:
    prefix = Path(sys.prefix)
    if not (prefix / "pyvenv.cfg").is_file():
        pytest.skip("the tests are not running in a virtualenv")
    if "include-system-site-packages = true" in (prefix / "pyvenv.cfg").read_text(encoding="utf-8").lower():
        pytest.skip("this virtualenv sees the system site-packages (the reader refuses those, by design)")
    environment = VenvReader().read(prefix, target=None)
    assert environment.target.python == f"{sys.version_info.major}.{sys.version_info.minor}"
    expected = sorted((canonicalize_name(d.metadata["Name"]), d.version)
                      for d in importlib.metadata.distributions(path=SITE_DIRS))
    assert sorted((p.name, p.version) for p in environment.packages
                  if p.location is None or not p.location.file.endswith(".egg-link")) == expected


def test_source_kinds_match_direct_url_json_on_the_running_environment() -> None:
    """CI installs the gate itself editable (``pip install -e .``): a real PEP 610 record."""
    kinds = {}
    for dist in importlib.metadata.distributions(path=SITE_DIRS):
        record = json.loads(dist.read_text("direct_url.json") or "null")
        installer = (dist.read_text("INSTALLER") or "").strip()
        if record is None:
            kind = SourceKind.INDEX if installer in ("pip", "uv") else SourceKind.UNKNOWN
        elif "vcs_info" in record:
            kind = SourceKind.VCS
        elif "dir_info" in record:
            kind = SourceKind.EDITABLE if record["dir_info"].get("editable") else SourceKind.PATH
        else:
            kind = SourceKind.PATH if record["url"].startswith("file:") else SourceKind.URL
        kinds[(canonicalize_name(dist.metadata["Name"]), dist.version)] = kind
    got = {(p.name, p.version): p.source.kind for d in SITE_DIRS if Path(d).is_dir() for p in ours(d)}
    assert got == kinds
