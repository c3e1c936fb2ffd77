"""Choosing a reader: by name, or by what a directory holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from gate.errors import InputError
from gate.sources import (
    READERS,
    InputKind,
    Reader,
    reader_for_environment,
    reader_named,
    reader_names,
)
from gate.sources.venv import SitePackagesReader, VenvReader
from tests.sources.helpers import OLD, OLD_SITE, add_dist


def test_the_registry_is_an_explicit_tuple_of_distinct_names() -> None:
    assert isinstance(READERS, tuple)
    lockfiles = ("pylock", "uv.lock", "poetry.lock", "pdm.lock", "Pipfile.lock", "conda-lock", "conda-explicit",
                 "conda-environment", "cyclonedx", "requirements")
    assert reader_names() == ("venv", "site-packages", *lockfiles)
    assert reader_names(InputKind.ENVIRONMENT) == ("venv", "site-packages")
    assert reader_names(InputKind.LOCKFILE) == lockfiles
    assert len(set(reader_names())) == len(READERS)


def test_each_entry_names_its_class_and_loads_it_once() -> None:
    for entry in READERS:
        reader = entry.load()
        assert (reader.name, reader.input_kind) == (entry.name, entry.input_kind)
        assert entry.load() is reader


def test_checking_a_virtualenv_imports_no_lockfile_parser() -> None:
    import subprocess
    import sys

    code = ("import sys; from pathlib import Path; from gate.sources import reader_for_environment; "
            f"reader_for_environment(Path({str(OLD)!r})).read(Path({str(OLD)!r}), target=None); "
            "print(sorted(m for m in sys.modules if m.startswith('gate.sources.')))")
    shown = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert shown.strip() == "['gate.sources.base', 'gate.sources.registry', 'gate.sources.venv']"


def test_readers_satisfy_the_protocol() -> None:
    readers: list[Reader] = [VenvReader(), SitePackagesReader()]
    assert [r.name for r in readers] == ["venv", "site-packages"]
    assert all(r.input_kind is InputKind.ENVIRONMENT for r in readers)


def test_lookup_by_name() -> None:
    assert isinstance(reader_named("venv"), VenvReader)
    assert isinstance(reader_named("site-packages"), SitePackagesReader)
    with pytest.raises(InputError) as raised:
        reader_named("gemfile.lock")
    assert str(raised.value) == ("no reader named 'gemfile.lock' (known: venv, site-packages, pylock, uv.lock, "
                                 "poetry.lock, pdm.lock, Pipfile.lock, conda-lock, conda-explicit, conda-environment, "
                                 "cyclonedx, requirements)")


def test_lockfile_detection_refuses_what_no_reader_knows(tmp_path: Path) -> None:
    from gate.sources import reader_for_lockfile

    junk = tmp_path / "model.bin"
    junk.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(InputError) as raised:
        reader_for_lockfile(junk)
    assert str(raised.value) == (f"{junk}: not a format the gate reads (supported: pylock, uv.lock, poetry.lock, "
                                 "pdm.lock, Pipfile.lock, conda-lock, conda-explicit, conda-environment, cyclonedx, "
                                 "requirements)")


def test_detection_by_content(tmp_path: Path) -> None:
    assert reader_for_environment(OLD).name == "venv"
    assert reader_for_environment(OLD_SITE).name == "site-packages"
    empty_site = tmp_path / "lib" / "python3.11" / "site-packages"
    empty_site.mkdir(parents=True)
    assert reader_for_environment(empty_site).name == "site-packages"  # a fresh, empty site-packages
    vendored = tmp_path / "vendored"
    add_dist(vendored, "demo", "1.0")
    assert reader_for_environment(vendored).name == "site-packages"
    assert not VenvReader().detect(vendored)
    assert not SitePackagesReader().detect(OLD)  # a venv root holds no distributions itself
    assert not SitePackagesReader().detect(tmp_path / "missing")


def test_nothing_fits(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    with pytest.raises(InputError) as raised:
        reader_for_environment(tmp_path)
    assert str(raised.value) == (
        f"{tmp_path}: not a virtualenv or site-packages directory (no pyvenv.cfg, no *.dist-info or *.egg-info)")
