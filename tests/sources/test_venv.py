"""The installed-environment reader on the shipped example venvs and on small trees built here."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gate.errors import InputError
from gate.model import LicenseFields, Location, Package, Source, SourceKind
from gate.sources import duplicate_packages, read_environment
from gate.sources.venv import SitePackagesReader, VenvReader
from tests.sources.helpers import CURRENT, OLD, OLD_SITE, add_dist, make_venv

OLD_VERSIONS = {
    "certifi": "2018.4.16",
    "chardet": "3.0.4",
    "django": "2.2",
    "idna": "2.7",
    "jinja2": "2.10",
    "markupsafe": "1.1.1",
    "numpy": "1.22.0",
    "pillow": "8.2.0",
    "pytz": "2019.1",
    "pyyaml": "5.3",
    "requests": "2.19.1",
    "sqlparse": "0.3.0",
    "urllib3": "1.24.1",
}
CURRENT_VERSIONS = {
    "asgiref": "3.9.1",
    "certifi": "2025.8.3",
    "charset-normalizer": "3.4.3",
    "django": "5.2.16",
    "idna": "3.15",
    "jinja2": "3.1.6",
    "markupsafe": "3.0.2",
    "numpy": "2.3.3",
    "pillow": "12.3.0",
    "pyyaml": "6.0.2",
    "requests": "2.33.0",
    "sqlparse": "0.5.3",
    "urllib3": "2.7.0",
}


def by_name(path: Path) -> dict[str, Package]:
    return {p.name: p for p in VenvReader().read(path, target=None).packages}


# --- the shipped example environments ------------------------------------------------------------


def test_old_ml_names_and_versions_exactly() -> None:
    environment = VenvReader().read(OLD, target=None)
    assert [(p.name, p.version) for p in environment.packages] == sorted(OLD_VERSIONS.items())
    assert environment.kind == "venv"
    assert environment.source == str(OLD)
    assert environment.target.python == "3.11"  # pyvenv.cfg: version_info = 3.11.7
    assert environment.target.platform is None
    assert environment.digest.startswith("sha256:")


def test_current_names_and_versions_exactly() -> None:
    environment = VenvReader().read(CURRENT, target=None)
    assert [(p.name, p.version) for p in environment.packages] == sorted(CURRENT_VERSIONS.items())
    assert environment.target.python == "3.11"  # pyvenv.cfg: version = 3.11.7 (the stdlib venv's key)


def test_names_are_pep503_normalised_and_located_at_their_metadata() -> None:
    packages = VenvReader().read(OLD, target=None).packages
    jinja2 = next(p for p in packages if p.name == "jinja2")
    assert jinja2.pypi_name == "jinja2"
    assert jinja2.ecosystem == "pypi"
    assert jinja2.location == Location(file="lib/python3.11/site-packages/Jinja2-2.10.dist-info/METADATA")
    names = {p.name for p in packages}
    assert {"pyyaml", "markupsafe", "pillow", "django"} <= names
    assert not {"PyYAML", "MarkupSafe", "Pillow", "Django", "Jinja2"} & names
    current = VenvReader().read(CURRENT, target=None).packages
    charset = next(p for p in current if p.name == "charset-normalizer")  # Name: charset-normalizer
    assert charset.location == Location(
        file="lib/python3.11/site-packages/charset_normalizer-3.4.3.dist-info/METADATA")


def test_pip_installs_without_direct_url_come_from_an_index() -> None:
    for package in VenvReader().read(OLD, target=None).packages:
        assert package.source == Source(kind=SourceKind.INDEX)
        assert package.installer == "pip"
        assert package.hashes == ()


def test_licence_fields_are_kept_verbatim() -> None:
    old = by_name(OLD)
    assert old["requests"].license == LicenseFields(
        text="Apache 2.0", classifiers=("License :: OSI Approved :: Apache Software License",))
    assert old["chardet"].license.text == "LGPL"
    assert old["chardet"].license.classifiers == (
        "License :: OSI Approved :: GNU Library or Lesser General Public License (LGPL)",)
    current = by_name(CURRENT)
    assert current["pillow"].license == LicenseFields(expression="MIT-CMU")
    assert current["urllib3"].license.expression == "MIT"
    assert current["jinja2"].license.text is None
    assert current["jinja2"].license.classifiers == ("License :: OSI Approved :: BSD License",)


def test_a_licence_text_spanning_a_thousand_lines_stays_one_field() -> None:
    """numpy's License field holds whole licence texts, with "Name: ..." lines and lines of
    spaces inside it: they are continuation lines, not headers or the end of the header."""
    numpy = by_name(CURRENT)["numpy"]
    assert numpy.version == "2.3.3"
    text = numpy.license.text
    assert text is not None
    assert text.startswith("Copyright (c) 2005-2025, NumPy Developers.\n")
    assert "Name: lapack-lite" in text
    assert len(text.splitlines()) > 900


def test_requires_dist_verbatim_in_declared_order() -> None:
    assert by_name(OLD)["requests"].requires == (
        "chardet (<3.1.0,>=3.0.2)",
        "idna (<2.8,>=2.5)",
        "urllib3 (<1.24,>=1.21.1)",
        "certifi (>=2017.4.17)",
        "pyOpenSSL (>=0.14); extra == 'security'",
        "cryptography (>=1.3.4); extra == 'security'",
        "idna (>=2.0.0); extra == 'security'",
        "PySocks (!=1.5.7,>=1.5.6); extra == 'socks'",
        'win-inet-pton; sys_platform == "win32" and (python_version == "2.7" or python_version == "2.6") '
        "and extra == 'socks'",
    )
    assert by_name(CURRENT)["requests"].requires[:2] == ("charset_normalizer<4,>=2", "idna<4,>=2.5")


def test_pth_file_is_never_executed(capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    canary = OLD_SITE / "gate-canary.pth"
    # The canary is live: a Python that processes the directory as a site dir runs it.
    ran = subprocess.run([sys.executable, "-S", "-c", f"import site; site.addsitedir({str(OLD_SITE)!r})"],
                         capture_output=True, text=True, check=True)
    assert "PTH EXECUTED" in ran.stderr, canary

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the reader started a process")

    monkeypatch.setattr(subprocess, "Popen", refuse)
    monkeypatch.setattr(os, "system", refuse)
    monkeypatch.setattr(os, "posix_spawn", refuse, raising=False)
    monkeypatch.setattr(os, "execv", refuse)
    before = set(sys.modules)
    paths = list(sys.path)
    environment = read_environment(OLD)
    assert len(environment.packages) == 13
    assert "PTH EXECUTED" not in capfd.readouterr().err
    assert sys.path == paths
    assert not {name for name in set(sys.modules) - before if name in OLD_VERSIONS}


def test_digest_depends_on_what_is_installed_not_where_or_in_which_order(tmp_path: Path) -> None:
    copy = tmp_path / "elsewhere" / "venv"
    shutil.copytree(OLD, copy)
    original = VenvReader().read(OLD, target=None)
    moved = VenvReader().read(copy, target=None)
    assert moved.digest == original.digest
    assert moved.packages == original.packages  # locations are relative to the environment

    forward, backward = tmp_path / "forward", tmp_path / "backward"
    specs = [("alpha", "1.0"), ("beta", "2.0"), ("gamma", "0.1")]
    for root, order in ((forward, specs), (backward, specs[::-1])):
        site = make_venv(root)
        for name, version in order:
            add_dist(site, name, version)
    assert VenvReader().read(forward, target=None).packages == VenvReader().read(backward, target=None).packages
    assert VenvReader().read(forward, target=None).digest == VenvReader().read(backward, target=None).digest
    assert VenvReader().read(forward, target=None).digest != original.digest


# --- direct_url.json (PEP 610) and INSTALLER ------------------------------------------------------


def read_one(tmp_path: Path, *, installer: str | None = "pip", direct_url: dict[str, object] | None = None) -> Package:
    site = make_venv(tmp_path / "venv")
    add_dist(site, "demo", "1.0", installer=installer, direct_url=direct_url)
    (package,) = VenvReader().read(tmp_path / "venv", target=None).packages
    return package


def test_vcs_install(tmp_path: Path) -> None:
    package = read_one(tmp_path, direct_url={
        "url": "https://github.com/example/demo.git",
        "vcs_info": {"vcs": "git", "commit_id": "7f8e3c1d2b4a5968a7b6c5d4e3f2a1b0c9d8e7f6", "requested_revision": "v1"},
    })
    assert package.source == Source(kind=SourceKind.VCS, url="https://github.com/example/demo.git",
                                    commit="7f8e3c1d2b4a5968a7b6c5d4e3f2a1b0c9d8e7f6")


def test_editable_and_local_directory_installs(tmp_path: Path) -> None:
    editable = read_one(tmp_path / "a", direct_url={"url": "file:///src/demo", "dir_info": {"editable": True}})
    assert editable.source == Source(kind=SourceKind.EDITABLE, url="file:///src/demo")
    local = read_one(tmp_path / "b", direct_url={"url": "file:///src/demo", "dir_info": {}})
    assert local.source == Source(kind=SourceKind.PATH, url="file:///src/demo")


def test_archive_install_keeps_its_hashes(tmp_path: Path) -> None:
    package = read_one(tmp_path, direct_url={
        "url": "https://files.example.org/demo-1.0-py3-none-any.whl",
        "archive_info": {
            "hashes": {"sha256": "AB12" * 16, "md5": "0f" * 16},
            "hash": "sha256=" + "ab12" * 16,  # the deprecated single form, same digest
        },
    })
    assert package.source == Source(kind=SourceKind.URL, url="https://files.example.org/demo-1.0-py3-none-any.whl")
    assert package.hashes == (("md5", "0f" * 16), ("sha256", "ab12" * 16))


def test_archive_from_a_local_file_is_a_path_source(tmp_path: Path) -> None:
    package = read_one(tmp_path, direct_url={"url": "file:///wheels/demo-1.0-py3-none-any.whl",
                                             "archive_info": {"hash": "sha256=" + "cd" * 32}})
    assert package.source.kind is SourceKind.PATH
    assert package.hashes == (("sha256", "cd" * 32),)


@pytest.mark.parametrize(("installer", "kind"), [
    (None, SourceKind.UNKNOWN),
    ("pip", SourceKind.INDEX),
    ("uv", SourceKind.INDEX),
    ("Poetry", SourceKind.INDEX),
    ("conda", SourceKind.CHANNEL),
    ("debian", SourceKind.UNKNOWN),
])
def test_source_kind_without_direct_url_follows_the_installer(tmp_path: Path, installer: str | None,
                                                              kind: SourceKind) -> None:
    package = read_one(tmp_path, installer=installer)
    assert package.source == Source(kind=kind)
    assert package.installer == installer


# --- egg-info and egg-link ------------------------------------------------------------------------


def test_egg_info_directory_with_requires_txt(tmp_path: Path) -> None:
    site = make_venv(tmp_path / "venv")
    egg = site / "Legacy_Thing-0.9-py3.11.egg-info"
    egg.mkdir()
    (egg / "PKG-INFO").write_text("Metadata-Version: 1.1\nName: Legacy_Thing\nVersion: 0.9\nLicense: BSD\n"
                                  "Classifier: License :: OSI Approved :: BSD License\n", encoding="utf-8")
    (egg / "requires.txt").write_text("six>=1.10\n\n[socks]\nPySocks>=1.5\n\n[:python_version < \"3.8\"]\n"
                                      "importlib-metadata\n\n[tls:sys_platform == \"win32\"]\npywin32\n",
                                      encoding="utf-8")
    (package,) = VenvReader().read(tmp_path / "venv", target=None).packages
    assert (package.name, package.version) == ("legacy-thing", "0.9")
    assert package.location == Location(
        file="lib/python3.11/site-packages/Legacy_Thing-0.9-py3.11.egg-info/PKG-INFO")
    assert package.source == Source(kind=SourceKind.UNKNOWN)
    assert package.license == LicenseFields(text="BSD", classifiers=("License :: OSI Approved :: BSD License",))
    assert package.requires == (
        "six>=1.10",
        'PySocks>=1.5; extra == "socks"',
        'importlib-metadata; python_version < "3.8"',
        'pywin32; (sys_platform == "win32") and extra == "tls"',
    )


def test_egg_info_file(tmp_path: Path) -> None:
    site = make_venv(tmp_path / "venv")
    (site / "distutils_thing-2.0-py3.11.egg-info").write_text(
        "Metadata-Version: 1.0\nName: distutils-thing\nVersion: 2.0\n", encoding="utf-8")
    (package,) = VenvReader().read(tmp_path / "venv", target=None).packages
    assert (package.name, package.version, package.source.kind) == ("distutils-thing", "2.0", SourceKind.UNKNOWN)
    assert package.location == Location(file="lib/python3.11/site-packages/distutils_thing-2.0-py3.11.egg-info")


def test_egg_link_is_an_editable_install_of_the_project_it_names(tmp_path: Path) -> None:
    site = make_venv(tmp_path / "venv")
    project = tmp_path / "src" / "my-project"
    egg = project / "my_project.egg-info"
    egg.mkdir(parents=True)
    (egg / "PKG-INFO").write_text("Metadata-Version: 2.1\nName: my-project\nVersion: 0.1.dev0\n", encoding="utf-8")
    (site / "my-project.egg-link").write_text(f"{project}\n.", encoding="utf-8")
    (package,) = VenvReader().read(tmp_path / "venv", target=None).packages
    assert (package.name, package.version) == ("my-project", "0.1.dev0")
    assert package.source == Source(kind=SourceKind.EDITABLE, url=project.as_posix())
    assert package.location == Location(file="lib/python3.11/site-packages/my-project.egg-link")


def test_egg_link_to_a_missing_project_fails_closed(tmp_path: Path) -> None:
    site = make_venv(tmp_path / "venv")
    (site / "gone.egg-link").write_text(f"{tmp_path / 'gone'}\n.", encoding="utf-8")
    with pytest.raises(InputError) as raised:
        VenvReader().read(tmp_path / "venv", target=None)
    assert str(raised.value) == (f"{site / 'gone.egg-link'}: points to {tmp_path / 'gone'}, which cannot be "
                                 "listed (No such file or directory)")


def test_egg_link_to_a_path_with_a_nul_character(tmp_path: Path) -> None:
    # found by benchmarks/fuzz_inputs.py: os.scandir raised ValueError (exit 70)
    site = make_venv(tmp_path / "venv")
    (site / "odd.egg-link").write_text("src\x00x\n.", encoding="utf-8")
    assert read_error(tmp_path / "venv") == (f"{site / 'odd.egg-link'}: names a directory with a NUL character, "
                                             "which no path holds")


# --- duplicates, unparsable versions --------------------------------------------------------------


def test_two_dist_infos_for_one_project_are_both_kept_and_reported(tmp_path: Path) -> None:
    site = make_venv(tmp_path / "venv")
    add_dist(site, "Foo.Bar", "2.0", folder="Foo.Bar-2.0.dist-info")
    add_dist(site, "foo_bar", "1.0", folder="foo_bar-1.0.dist-info")
    add_dist(site, "FOO-BAR", "1.0", folder="FOO_BAR-1.0.dist-info")
    add_dist(site, "other", "1.0")
    environment = VenvReader().read(tmp_path / "venv", target=None)
    foo = [(p.name, p.version, p.location.file if p.location else None) for p in environment.packages
           if p.name == "foo-bar"]
    assert foo == [
        ("foo-bar", "1.0", "lib/python3.11/site-packages/FOO_BAR-1.0.dist-info/METADATA"),
        ("foo-bar", "1.0", "lib/python3.11/site-packages/foo_bar-1.0.dist-info/METADATA"),
        ("foo-bar", "2.0", "lib/python3.11/site-packages/Foo.Bar-2.0.dist-info/METADATA"),
    ]
    (group,) = duplicate_packages(environment.packages)
    assert [p.version for p in group] == ["1.0", "1.0", "2.0"]


def test_an_unparsable_version_is_kept_verbatim(tmp_path: Path) -> None:
    package = read_one(tmp_path)
    assert package.version == "1.0"
    site = make_venv(tmp_path / "odd")
    add_dist(site, "odd", "2024-banana_7")
    (odd,) = VenvReader().read(tmp_path / "odd", target=None).packages
    assert odd.version == "2024-banana_7"


# --- layouts and the Python version ---------------------------------------------------------------


def test_site_packages_given_directly(tmp_path: Path) -> None:
    environment = read_environment(OLD_SITE)
    assert environment.kind == "site-packages"
    assert environment.source == str(OLD_SITE)
    assert environment.target.python == "3.11"  # from the lib/python3.11 folder name
    assert {p.name: p.version for p in environment.packages} == OLD_VERSIONS
    assert environment.digest == VenvReader().read(OLD, target=None).digest
    jinja2 = next(p for p in environment.packages if p.name == "jinja2")
    assert jinja2.location == Location(file="Jinja2-2.10.dist-info/METADATA")

    loose = tmp_path / "vendored"  # not named site-packages, not below a pythonX.Y folder
    add_dist(loose, "demo", "1.0")
    environment = read_environment(loose)
    assert (environment.kind, environment.target.python) == ("site-packages", None)


def test_python_version_from_the_folder_when_pyvenv_cfg_has_none(tmp_path: Path) -> None:
    site = make_venv(tmp_path / "venv", config="home = /usr/bin\n", site="lib/python3.12/site-packages")
    add_dist(site, "demo", "1.0")
    assert VenvReader().read(tmp_path / "venv", target=None).target.python == "3.12"


def test_python_version_from_virtualenv_style_version_info(tmp_path: Path) -> None:
    make_venv(tmp_path / "venv", config="home = /usr/bin\nversion_info = 3.13.1.final.0\nVersion = 3.9.0\n",
              site="lib/python3.13/site-packages")
    assert VenvReader().read(tmp_path / "venv", target=None).target.python == "3.13"


def test_only_the_site_packages_of_the_recorded_python_is_read(tmp_path: Path) -> None:
    live = make_venv(tmp_path / "venv", config="version = 3.11.7\n", site="lib/python3.11/site-packages")
    stale = make_venv(tmp_path / "venv", config="version = 3.11.7\n", site="lib/python3.10/site-packages")
    add_dist(live, "live", "1.0")
    add_dist(stale, "stale", "1.0")
    assert [p.name for p in VenvReader().read(tmp_path / "venv", target=None).packages] == ["live"]


def test_lib64_symlink_is_read_once_and_a_separate_lib64_is_read_too(tmp_path: Path) -> None:
    site = make_venv(tmp_path / "linked")
    add_dist(site, "demo", "1.0")
    (tmp_path / "linked" / "lib64").symlink_to("lib")
    assert [p.name for p in VenvReader().read(tmp_path / "linked", target=None).packages] == ["demo"]

    purelib = make_venv(tmp_path / "fedora")
    platlib = make_venv(tmp_path / "fedora", site="lib64/python3.11/site-packages")
    add_dist(purelib, "pure", "1.0")
    add_dist(platlib, "compiled", "1.0")
    packages = VenvReader().read(tmp_path / "fedora", target=None).packages
    assert [(p.name, p.location.file if p.location else None) for p in packages] == [
        ("compiled", "lib64/python3.11/site-packages/compiled-1.0.dist-info/METADATA"),
        ("pure", "lib/python3.11/site-packages/pure-1.0.dist-info/METADATA"),
    ]


def test_windows_layout(tmp_path: Path) -> None:
    site = make_venv(tmp_path / "venv", config="home = C:\\Python311\nversion = 3.11.7\n", site="Lib/site-packages")
    add_dist(site, "demo", "1.0")
    environment = VenvReader().read(tmp_path / "venv", target=None)
    assert environment.target.python == "3.11"
    assert [p.location for p in environment.packages] == [
        Location(file="Lib/site-packages/demo-1.0.dist-info/METADATA")]


def test_an_empty_environment_is_an_empty_package_list(tmp_path: Path) -> None:
    make_venv(tmp_path / "venv")
    environment = VenvReader().read(tmp_path / "venv", target=None)
    assert environment.packages == ()


# --- failing closed, with one-line messages that start with the file -------------------------------


def read_error(path: Path, reader: VenvReader | SitePackagesReader | None = None) -> str:
    with pytest.raises(InputError) as raised:
        if reader is None:
            read_environment(path)
        else:
            reader.read(path, target=None)
    message = str(raised.value)
    assert "\n" not in message
    return message


def test_missing_metadata(tmp_path: Path) -> None:
    site = make_venv(tmp_path / "venv")
    (site / "ghost-1.0.dist-info").mkdir()
    assert read_error(tmp_path / "venv") == (
        f"{site}/ghost-1.0.dist-info/METADATA: missing (a .dist-info directory must contain METADATA)")


def test_undecodable_metadata(tmp_path: Path) -> None:
    site = make_venv(tmp_path / "venv")
    directory = add_dist(site, "bad", "1.0")
    (directory / "METADATA").write_bytes(b"Metadata-Version: 2.1\nName: bad\nVersion: 1.0\nAuthor: Fran\xe7ois\n")
    assert read_error(tmp_path / "venv") == (
        f"{directory}/METADATA:4: not valid UTF-8 (invalid continuation byte: byte 0xe7 at offset 57)")


def test_undecodable_long_description_is_caught_too(tmp_path: Path) -> None:
    """importlib.metadata would fail on it; the gate must not quietly accept what Python can't read."""
    site = make_venv(tmp_path / "venv")
    directory = add_dist(site, "bad", "1.0")
    (directory / "METADATA").write_bytes(b"Name: bad\nVersion: 1.0\n\nfirst line\n\xff\n")
    assert read_error(tmp_path / "venv") == (
        f"{directory}/METADATA:5: not valid UTF-8 (invalid start byte: byte 0xff at offset 35)")


def test_not_an_environment_directory(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("hello", encoding="utf-8")
    assert read_error(tmp_path) == (
        f"{tmp_path}: not a virtualenv or site-packages directory (no pyvenv.cfg, no *.dist-info or *.egg-info)")


def test_missing_path_and_a_file_instead_of_a_directory(tmp_path: Path) -> None:
    assert read_error(tmp_path / "nope") == f"{tmp_path / 'nope'}: no such file or directory"
    (tmp_path / "file").write_text("x", encoding="utf-8")
    assert read_error(tmp_path / "file") == (
        f"{tmp_path / 'file'}: not a directory (an environment is a virtualenv or site-packages directory)")


def test_metadata_over_the_size_bound(tmp_path: Path) -> None:
    site = make_venv(tmp_path / "venv")
    directory = add_dist(site, "big", "1.0", body="x" * 500)
    size = (directory / "METADATA").stat().st_size
    assert read_error(tmp_path / "venv", VenvReader(max_metadata_bytes=400)) == (
        f"{directory}/METADATA: {size} bytes, over the limit of 400")
    assert VenvReader().max_metadata_bytes == 10 * 1024 * 1024


@pytest.mark.parametrize(("text", "message"), [
    ("Metadata-Version: 2.1\nVersion: 1.0\n", "no Name field"),
    ("Metadata-Version: 2.1\nName: x\n\nVersion: 1.0\n", "no Version field"),  # Version is in the body
    ("Name: x\nVersion: 1.0\nName: y\n", "more than one Name field"),
    ("Name: x\nVersion: 1.0\nversion: 2.0\n", "more than one Version field"),
    ("Name: x\nVersion: 1.0\nLicense: MIT\nLicense: BSD\n", "more than one License field"),
])
def test_metadata_without_a_usable_name_or_version(tmp_path: Path, text: str, message: str) -> None:
    site = make_venv(tmp_path / "venv")
    directory = site / "x-1.0.dist-info"
    directory.mkdir()
    (directory / "METADATA").write_text(text, encoding="utf-8")
    assert read_error(tmp_path / "venv") == f"{directory}/METADATA: {message}"


def test_a_dist_info_that_is_a_file(tmp_path: Path) -> None:
    site = make_venv(tmp_path / "venv")
    (site / "odd-1.0.dist-info").write_text("", encoding="utf-8")
    assert read_error(tmp_path / "venv") == f"{site}/odd-1.0.dist-info: not a directory (a .dist-info must be one)"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_is_refused_not_read(tmp_path: Path) -> None:
    site = make_venv(tmp_path / "venv")
    directory = site / "pipe-1.0.dist-info"
    directory.mkdir()
    os.mkfifo(directory / "METADATA")
    assert read_error(tmp_path / "venv") == f"{directory}/METADATA: not a regular file"


@pytest.mark.parametrize(("content", "message"), [
    ("{", ":1: not valid JSON (Expecting property name enclosed in double quotes)"),
    ('{\n "url": "https://x",\n "vcs_info": {"vcs": "git"}\n}', ": vcs_info.commit_id: missing or not a string"),
    ('{"vcs_info": {"vcs": "git", "commit_id": "abc"}}', ": url: missing or not a string"),
    ('{"url": "https://x"}', ": must hold exactly one of vcs_info, archive_info and dir_info (it holds none)"),
    ('{"url": "https://x", "dir_info": {}, "archive_info": {}}',
     ": must hold exactly one of vcs_info, archive_info and dir_info (it holds archive_info, dir_info)"),
    ('{"url": "file:///x", "dir_info": {"editable": "yes"}}', ": dir_info.editable: not true or false"),
    ('{"url": "https://x", "archive_info": {"hash": "deadbeef"}}',
     ": archive_info.hash: not <algorithm>=<hex digest>"),
    ('{"url": "https://x", "archive_info": {"hashes": {"sha256": 7}}}',
     ": archive_info.hashes.sha256: not a hex digest"),
    ("[]", ": not a JSON object"),
    ("[" * 100_000, ": not valid JSON (nested too deeply)"),
    # found by benchmarks/fuzz_inputs.py: json's int() raised a bare ValueError (exit 70)
    ('{"url": "https://x",\n "archive_info": {"size": ' + "1" * 5000 + "}}",
     ":2: not valid JSON (a number of more than 4300 digits)"),
])
def test_malformed_direct_url(tmp_path: Path, content: str, message: str) -> None:
    site = make_venv(tmp_path / "venv")
    directory = add_dist(site, "demo", "1.0")
    (directory / "direct_url.json").write_text(content, encoding="utf-8")
    assert read_error(tmp_path / "venv") == f"{directory}/direct_url.json{message}"


def test_pyvenv_cfg_names_a_python_the_venv_has_no_site_packages_for(tmp_path: Path) -> None:
    make_venv(tmp_path / "venv", config="version = 3.12.1\n", site="lib/python3.11/site-packages")
    assert read_error(tmp_path / "venv") == (
        f"{tmp_path / 'venv'}: pyvenv.cfg says Python 3.12, but there is no lib/python3.12/site-packages "
        "(there is lib/python3.11/site-packages)")


def test_several_pythons_and_no_recorded_version(tmp_path: Path) -> None:
    make_venv(tmp_path / "venv", config="home = /usr/bin\n", site="lib/python3.11/site-packages")
    make_venv(tmp_path / "venv", config="home = /usr/bin\n", site="lib/python3.12/site-packages")
    assert read_error(tmp_path / "venv") == (
        f"{tmp_path / 'venv'}: site-packages for several Pythons (3.11, 3.12) and pyvenv.cfg records no version")


def test_a_venv_without_site_packages(tmp_path: Path) -> None:
    (tmp_path / "pyvenv.cfg").write_text("version = 3.11.7\n", encoding="utf-8")
    assert read_error(tmp_path) == (
        f"{tmp_path}: no site-packages directory (looked for lib/pythonX.Y/site-packages, "
        "lib64/pythonX.Y/site-packages and Lib/site-packages)")


def test_a_venv_that_sees_the_system_site_packages_is_refused(tmp_path: Path) -> None:
    make_venv(tmp_path / "venv", config="home = /usr/bin\ninclude-system-site-packages = True\nversion = 3.11.7\n")
    assert read_error(tmp_path / "venv") == (
        f"{tmp_path / 'venv' / 'pyvenv.cfg'}: include-system-site-packages = true: the base interpreter's packages "
        "are importable too, and they are not part of this directory (pass lib/python3.11/site-packages to judge "
        "the venv's own packages only)")
    site = tmp_path / "venv" / "lib" / "python3.11" / "site-packages"
    assert read_environment(site).kind == "site-packages"


def test_platform_is_read_from_the_wheels_when_they_agree() -> None:
    assert VenvReader().read(CURRENT, target=None).target.platform == "linux_x86_64"
    # old-ml mixes wheels built for several platforms: the platform stays open
    assert VenvReader().read(OLD, target=None).target.platform is None
