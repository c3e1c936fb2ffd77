"""Installed environments: a virtualenv directory, or a site-packages directory itself.

The candidate environment is data, never code. Nothing here starts its interpreter or
imports from it (``site`` would run its ``.pth`` files, and those are arbitrary code), and
nothing here uses ``importlib.metadata`` on it (that reads ``sys.path``-style locations and
parses every long description). The reader lists the site-packages directory once and
reads, per distribution, the few small files the packaging specifications define:

- ``*.dist-info/METADATA`` (core metadata): ``Name``, ``Version``, ``Requires-Dist``,
  ``License-Expression``, ``License`` and the ``License ::`` classifiers. Only the header
  block is parsed (the body is the long description, often most of the file), and of it
  only those fields, picked out as the email parser would cut them: on a real
  221-distribution ML environment, reading took 63 ms with ``packaging.metadata.parse_email``
  on whole files, 47 ms on the header block, 33 ms on the wanted fields. The whole file is
  still checked to be UTF-8, as importlib.metadata would.
- ``INSTALLER`` and ``direct_url.json`` (PEP 610) for where the artifact came from.
- ``*.egg-info`` (a directory with ``PKG-INFO``, or a bare ``PKG-INFO`` file) from
  ``setup.py install`` and old pip; ``requires.txt`` is turned into Requires-Dist strings
  the way importlib.metadata does when ``PKG-INFO`` has none.
- ``*.egg-link`` from legacy editable installs (``setup.py develop``, pip < 21.3): the
  distribution lives in the project directory the link names; without this those
  projects, importable through ``easy-install.pth``, would be missing from the list.

Where the artifact came from, when there is no ``direct_url.json``: pip (since 20.1), uv,
Poetry and PDM write one for every install that did not come from an index, so for those
installers its absence means :attr:`SourceKind.INDEX` (with ``url=None``: no installer
records which index). ``INSTALLER`` "conda" means a conda channel. Anything else (no
``INSTALLER`` at all, a distro's package manager, ``setup.py install``, any ``.egg-info``
without a ``direct_url.json``) proves nothing about provenance and is :attr:`SourceKind.UNKNOWN`. A ``direct_url.json``
archive whose URL is a ``file:`` URL is a local artifact and reported as
:attr:`SourceKind.PATH`, as lockfiles report a local wheel.

Fail closed: a distribution whose metadata is missing, undecodable, over the size bound or
lacks a Name or Version is an :class:`InputError` naming the file, never skipped. Two
distributions with the same normalised name (a broken install) are both kept, sorted, so
that :func:`gate.sources.base.duplicate_packages` and the report show them.

Not read, by design: what ``.pth`` files would add to ``sys.path`` at run time (their
``import`` lines are code; the gate cannot know what they do without running them), and
zipped or directory ``.egg`` files (easy_install), which only ``easy-install.pth`` puts on
the path.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from packaging.metadata import parse_email
from packaging.utils import canonicalize_name

from gate.errors import InputError
from gate.model import Environment, LicenseFields, Location, Package, Source, SourceKind, Target
from gate.sources.base import InputKind, decode_utf8, load_json, read_bounded, relative_file
from gate.targets import platform_of_wheel_tag

MAX_METADATA_BYTES = 10 * 1024 * 1024  # 70x the largest in the 221-distribution benchmark env (140 kB)
MAX_DIRECT_URL_BYTES = 1024 * 1024
MAX_REQUIRES_BYTES = 1024 * 1024
MAX_SMALL_FILE_BYTES = 64 * 1024  # INSTALLER, pyvenv.cfg, .egg-link
MAX_DISTRIBUTIONS = 100_000  # an order of magnitude past the largest real environments

# Installers that write direct_url.json for every install not taken from an index.
INDEX_INSTALLERS = frozenset({"pip", "uv", "poetry", "pdm"})
CHANNEL_INSTALLERS = frozenset({"conda"})

_DISTRIBUTION_SUFFIXES = (".dist-info", ".egg-info", ".egg-link")
_PYTHON_FOLDER = re.compile(r"(?:python|pypy)(\d+\.\d+)t?")
_MAJOR_MINOR = re.compile(r"\s*(\d+)\.(\d+)")
# The header block: the lines from the top that the email parser (and so importlib.metadata
# and pip) takes for headers: a field name and a colon, a continuation line, or a "From "
# envelope line. The first other line, usually the empty one before the long description,
# ends it. "." stops only at \n: correct for \n and \r\n line ends; files with a lone \r
# (which the email parser also takes for a line end) are left to the email parser whole.
_HEADER_BLOCK = re.compile(r"(?:(?:[\x21-\x39\x3b-\x7e]*:|[ \t]|From ).*(?:\n|\Z))*")
_LONE_CR = re.compile(r"\r(?!\n)")
# A wanted field with its continuation lines (which start with a space or a tab). The
# classifier lookahead keeps only licence classifiers, most of a header's bulk.
_WANTED_HEADER = re.compile(
    r"^(?:name|version|requires-dist|license|license-expression|classifier(?=:[ \t]*license ::)):"
    r".*\n(?:[ \t].*\n)*",
    re.IGNORECASE | re.MULTILINE,
)
_FIELD_TITLES = {
    "name": "Name",
    "version": "Version",
    "license": "License",
    "license-expression": "License-Expression",
    "requires-dist": "Requires-Dist",
    "classifier": "Classifier",
}
_SINGLE_FIELDS = frozenset({"name", "version", "license", "license-expression"})


@dataclass(frozen=True, kw_only=True, slots=True)
class _Metadata:
    """The core-metadata fields the gate uses, as the distribution declared them."""

    name: str
    version: str
    requires: tuple[str, ...]
    license: LicenseFields


@dataclass(frozen=True, kw_only=True, slots=True)
class VenvReader:
    """A virtualenv directory: ``pyvenv.cfg`` beside ``lib/pythonX.Y/site-packages``
    (``lib64/`` too, as Fedora lays out platform packages) or Windows' ``Lib/site-packages``.

    The Python version is the one ``pyvenv.cfg`` records (``version_info`` from virtualenv
    and uv, ``version`` from the stdlib ``venv``); only that version's site-packages is
    read, as only it is on the interpreter's path. Without a recorded version, the
    ``pythonX.Y`` folder name tells, provided there is exactly one.

    A venv made with ``--system-site-packages`` is refused: what it can import includes a
    directory outside it, which may not even be on the machine that judges it, and a
    package list that silently leaves those out would pass what it never saw.
    """

    name: ClassVar[str] = "venv"
    input_kind: ClassVar[InputKind] = InputKind.ENVIRONMENT
    max_metadata_bytes: int = MAX_METADATA_BYTES

    def detect(self, path: Path) -> bool:
        return (path / "pyvenv.cfg").is_file()

    def read(self, path: Path, *, target: Target | None = None) -> Environment:
        """Read the environment; ``target`` is not consulted (the installer already chose
        for the interpreter this venv has, and that is what is reported)."""
        config = path / "pyvenv.cfg"
        data = read_bounded(config, limit=MAX_SMALL_FILE_BYTES)
        if data is None:
            raise InputError("not a virtualenv (no pyvenv.cfg)", where=path)
        settings = _pyvenv_cfg(decode_utf8(data, where=config))
        declared = _python_from_pyvenv_cfg(settings)
        directories, python = _venv_site_packages(path, declared)
        if settings.get("include-system-site-packages", "").lower() == "true":
            own = relative_file(directories[0], path)
            raise InputError(
                "include-system-site-packages = true: the base interpreter's packages are importable too, and "
                f"they are not part of this directory (pass {own} to judge the venv's own packages only)",
                where=config,
            )
        packages: list[Package] = []
        for directory in directories:
            packages.extend(_read_site_packages(directory, root=path, limit=self.max_metadata_bytes))
        return _environment(path, kind=self.name, python=python, packages=packages)


@dataclass(frozen=True, kw_only=True, slots=True)
class SitePackagesReader:
    """A site-packages (or Debian dist-packages) directory given directly: for images and
    prefixes that are not virtualenvs. The Python version comes from the enclosing
    ``pythonX.Y`` folder name when there is one."""

    name: ClassVar[str] = "site-packages"
    input_kind: ClassVar[InputKind] = InputKind.ENVIRONMENT
    max_metadata_bytes: int = MAX_METADATA_BYTES

    def detect(self, path: Path) -> bool:
        if not path.is_dir():
            return False
        if path.name.lower() in ("site-packages", "dist-packages"):
            return True
        try:
            with os.scandir(path) as listing:
                return any(entry.name.lower().endswith(_DISTRIBUTION_SUFFIXES) for entry in listing)
        except OSError:
            return False  # detection only; read() reports why the directory is unusable

    def read(self, path: Path, *, target: Target | None = None) -> Environment:
        """Read the directory; ``target`` is not consulted, as for :class:`VenvReader`."""
        if not path.is_dir():
            raise InputError("not a directory", where=path)
        folder = _PYTHON_FOLDER.fullmatch(path.absolute().parent.name)
        packages = _read_site_packages(path, root=path, limit=self.max_metadata_bytes)
        return _environment(path, kind=self.name, python=folder.group(1) if folder else None, packages=packages)


def _environment(path: Path, *, kind: str, python: str | None, packages: Iterable[Package]) -> Environment:
    # Pre-sorted so that duplicates (same name and version) come out in the same order
    # whatever order the filesystem listed them in.
    ordered = sorted(packages, key=lambda p: (p.name, p.version or "", p.location.file if p.location else ""))
    target = Target(python=python, platform=_platform_from_wheels(path, ordered))
    return Environment.create(source=str(path), kind=kind, target=target, packages=ordered)


def _platform_from_wheels(root: Path, packages: Iterable[Package]) -> str | None:
    """The platform every platform-specific wheel in the environment was built for, from the
    ``Tag:`` lines of their ``WHEEL`` files; None when they disagree or none is specific.

    A venv records its Python but not its platform; without this, rules that evaluate markers
    (consistency) would judge a Linux venv for Windows too."""
    found: set[str] = set()
    for package in packages:
        if package.location is None or not package.location.file.endswith(".dist-info/METADATA"):
            continue
        wheel = os.path.join(str(root), package.location.file[: -len("METADATA")] + "WHEEL")
        data = read_bounded(wheel, limit=MAX_SMALL_FILE_BYTES)
        if data is None:
            continue
        for line in data.decode("utf-8", "replace").splitlines():
            if line.startswith("Tag:"):
                platform_tag = line[4:].strip().rsplit("-", 1)[-1]
                if platform_tag != "any":
                    for part in platform_tag.split("."):  # compressed tag sets
                        platform = platform_of_wheel_tag(part)
                        if platform is not None:
                            found.add(platform)
    return found.pop() if len(found) == 1 else None


def _pyvenv_cfg(text: str) -> dict[str, str]:
    """``key = value`` lines, keys lower-cased as ``site`` reads them."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, separator, value = line.partition("=")
        if separator:
            values[key.strip().lower()] = value.strip()
    return values


def _python_from_pyvenv_cfg(values: dict[str, str]) -> str | None:
    """``X.Y`` from ``version_info`` (virtualenv, uv) or ``version`` (the stdlib venv)."""
    for key in ("version_info", "version"):
        match = _MAJOR_MINOR.match(values.get(key, ""))
        if match:
            return f"{match.group(1)}.{match.group(2)}"
    return None


def _venv_site_packages(env: Path, declared: str | None) -> tuple[list[Path], str | None]:
    """The site-packages directories of the venv's own Python, and that Python's ``X.Y``."""
    found: list[tuple[Path, str | None]] = []
    for lib_name in ("lib", "lib64"):
        lib = env / lib_name
        try:
            children = sorted(os.listdir(lib))
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError as error:
            raise InputError(f"cannot list ({error.strerror})", where=lib) from error
        for child in children:
            match = _PYTHON_FOLDER.fullmatch(child)
            if match and (lib / child / "site-packages").is_dir():
                found.append((lib / child / "site-packages", match.group(1)))
    windows = env / "Lib" / "site-packages"
    if windows.is_dir():
        found.append((windows, None))

    # lib64 is usually a symlink to lib, and Lib is lib on a case-insensitive filesystem:
    # the same directory must be read once. (st_dev, st_ino) sees through both.
    unique: dict[tuple[int, int], tuple[Path, str | None]] = {}
    for directory, version in found:
        info = directory.stat()
        unique.setdefault((info.st_dev, info.st_ino), (directory, version))
    candidates = list(unique.values())
    versions = sorted({version for _, version in candidates if version is not None})

    python: str | None
    if declared is not None:
        chosen = [(directory, version) for directory, version in candidates if version in (declared, None)]
        if not chosen and candidates:
            present = ", ".join(relative_file(directory, env) for directory, _ in candidates)
            raise InputError(
                f"pyvenv.cfg says Python {declared}, but there is no lib/python{declared}/site-packages "
                f"(there is {present})",
                where=env,
            )
        python = declared
    else:
        if len(versions) > 1:
            raise InputError(
                f"site-packages for several Pythons ({', '.join(versions)}) and pyvenv.cfg records no version",
                where=env,
            )
        chosen = candidates
        python = versions[0] if versions else None
    if not chosen:
        raise InputError(
            "no site-packages directory (looked for lib/pythonX.Y/site-packages, lib64/pythonX.Y/site-packages "
            "and Lib/site-packages)",
            where=env,
        )
    return [directory for directory, _ in chosen], python


def _read_site_packages(directory: Path, *, root: Path, limit: int) -> list[Package]:
    """Every distribution recorded in one site-packages directory, in name order.

    Paths are plain strings from here on, joined with ``/``: pathlib's joins were a fifth of
    the time on a 220-distribution environment. ``rel`` is the same place relative to the
    root, for :class:`Location`."""
    try:
        with os.scandir(directory) as listing:
            entries = sorted(
                (entry.name, entry.is_dir())
                for entry in listing
                if entry.name.lower().endswith(_DISTRIBUTION_SUFFIXES)
            )
    except OSError as error:
        raise InputError(f"cannot list ({error.strerror})", where=directory) from error
    if len(entries) > MAX_DISTRIBUTIONS:
        raise InputError(f"{len(entries)} distributions, over the limit of {MAX_DISTRIBUTIONS}", where=directory)
    base = str(directory)
    rel_base = relative_file(directory, root)
    rel_prefix = "" if rel_base == "." else rel_base + "/"
    packages = []
    for name, is_dir in entries:
        path = os.path.join(base, name)
        rel = rel_prefix + name
        suffix = name.lower()
        if suffix.endswith(".dist-info"):
            if not is_dir:
                raise InputError("not a directory (a .dist-info must be one)", where=path)
            packages.append(_read_dist_info(path, rel=rel, limit=limit))
        elif suffix.endswith(".egg-info"):
            packages.append(_read_egg_info(path, rel=rel, is_dir=is_dir, limit=limit))
        else:
            packages.append(_read_egg_link(path, rel=rel, limit=limit))
    return packages


def _read_dist_info(directory: str, *, rel: str, limit: int) -> Package:
    metadata_path = directory + "/METADATA"
    data = read_bounded(metadata_path, limit=limit)
    if data is None:
        raise InputError("missing (a .dist-info directory must contain METADATA)", where=metadata_path)
    metadata = _parse_metadata(data, where=metadata_path)
    installer = _read_installer(directory + "/INSTALLER")
    direct = _read_direct_url(directory + "/direct_url.json")
    source, hashes = direct if direct is not None else (Source(kind=_kind_without_direct_url(installer)), ())
    return _package(metadata, file=rel + "/METADATA", source=source, hashes=hashes, installer=installer)


def _read_egg_info(path: str, *, rel: str, is_dir: bool, limit: int) -> Package:
    """An ``.egg-info`` directory (``PKG-INFO`` inside) or a bare ``PKG-INFO`` file (distutils).
    Its source is unknown unless a ``direct_url.json`` says otherwise (see the module notes)."""
    pkg_info = path + "/PKG-INFO" if is_dir else path
    data = read_bounded(pkg_info, limit=limit)
    if data is None:
        raise InputError("missing (an .egg-info directory must contain PKG-INFO)", where=pkg_info)
    metadata = _parse_metadata(data, where=pkg_info)
    source = Source(kind=SourceKind.UNKNOWN)
    hashes: tuple[tuple[str, str], ...] = ()
    installer: str | None = None
    if is_dir:
        if not metadata.requires:
            requires_path = path + "/requires.txt"
            requires = read_bounded(requires_path, limit=MAX_REQUIRES_BYTES)
            if requires is not None:
                metadata = dataclasses.replace(
                    metadata, requires=_egg_requires(decode_utf8(requires, where=requires_path))
                )
        installer = _read_installer(path + "/INSTALLER")
        direct = _read_direct_url(path + "/direct_url.json")
        if direct is not None:
            source, hashes = direct
    file = rel + "/PKG-INFO" if is_dir else rel
    return _package(metadata, file=file, source=source, hashes=hashes, installer=installer)


def _read_egg_link(link: str, *, rel: str, limit: int) -> Package:
    """A legacy editable install: the link's first line is the directory that holds the
    project's ``.egg-info``. Reported as :attr:`SourceKind.EDITABLE` at the link's location,
    the file that puts it into this environment."""
    data = read_bounded(link, limit=MAX_SMALL_FILE_BYTES)
    lines = decode_utf8(data, where=link).splitlines() if data is not None else []
    target = lines[0].strip() if lines else ""
    if not target:
        raise InputError("empty (an .egg-link names the project directory on its first line)", where=link)
    if "\0" in target:
        raise InputError("names a directory with a NUL character, which no path holds", where=link)
    project = os.path.join(os.path.dirname(link), target)  # an absolute target replaces the base
    wanted = canonicalize_name(os.path.basename(link)[: -len(".egg-link")])
    try:
        with os.scandir(project) as listing:
            matches = sorted(
                (entry.name, entry.is_dir())
                for entry in listing
                if entry.name.lower().endswith(".egg-info")
                and canonicalize_name(entry.name[: -len(".egg-info")].split("-")[0]) == wanted
            )
    except OSError as error:
        raise InputError(f"points to {project}, which cannot be listed ({error.strerror})", where=link) from error
    if len(matches) != 1:
        count = "no" if not matches else f"{len(matches)}"
        raise InputError(f"points to {project}, which holds {count} {wanted} .egg-info", where=link)
    name, is_dir = matches[0]
    package = _read_egg_info(os.path.join(project, name), rel=rel, is_dir=is_dir, limit=limit)
    return dataclasses.replace(
        package,
        source=Source(kind=SourceKind.EDITABLE, url=Path(project).as_posix()),
        location=Location(file=rel),
    )


def _package(metadata: _Metadata, *, file: str, source: Source, hashes: tuple[tuple[str, str], ...],
             installer: str | None) -> Package:
    name = canonicalize_name(metadata.name)
    return Package(
        name=name,
        version=metadata.version,
        ecosystem="pypi",
        pypi_name=name,
        source=source,
        hashes=hashes,
        location=Location(file=file),
        license=metadata.license,
        requires=metadata.requires,
        installer=installer,
    )


def _wanted_headers(text: str) -> str:
    """The header lines of the fields the gate uses, continuation lines included.

    The header block ends where the email parser ends it, so that what ``parse_email`` sees
    of these fields is what it would see in the whole file, and what importlib.metadata and
    pip see: a line of spaces inside numpy's licence text is a continuation line, not the
    end of the header; a stray line without a colon is the end of it."""
    if "\r" in text and _LONE_CR.search(text):
        return text
    block = _HEADER_BLOCK.match(text)
    header = block.group(0) if block else ""
    if header and not header.endswith("\n"):
        header += "\n"
    return "".join(match.group(0) for match in _WANTED_HEADER.finditer(header))


def _parse_metadata(data: bytes, *, where: str) -> _Metadata:
    text = decode_utf8(data, where=where)
    raw, unparsed = parse_email(_wanted_headers(text))
    for field in sorted(unparsed.keys() & _FIELD_TITLES.keys()):  # others are not the gate's concern
        title = _FIELD_TITLES[field]
        if field in _SINGLE_FIELDS:
            raise InputError(f"more than one {title} field", where=where)
        raise InputError(f"cannot parse the {title} field", where=where)
    name = raw.get("name", "").strip()
    version = raw.get("version", "")
    if not name:
        raise InputError("no Name field", where=where)
    if not version.strip():
        raise InputError("no Version field", where=where)
    return _Metadata(
        name=name,
        version=version,
        requires=tuple(raw.get("requires_dist", ())),
        license=LicenseFields(
            expression=raw.get("license_expression"),
            text=raw.get("license"),
            classifiers=tuple(c for c in raw.get("classifiers", ()) if c.startswith("License ::")),
        ),
    )


def _egg_requires(text: str) -> tuple[str, ...]:
    """``requires.txt`` sections to Requires-Dist strings, exactly as importlib.metadata
    converts them: ``[extra:marker]`` becomes ``; (marker) and extra == "extra"``."""
    requires: list[str] = []
    section = ""
    for raw_line in text.splitlines():
        line = raw_line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line.strip("[]")
            continue
        extra, _, markers = section.partition(":")
        if extra and markers:
            markers = f"({markers})"
        conditions = [condition for condition in (markers, extra and f'extra == "{extra}"') if condition]
        marker = "; " + " and ".join(conditions) if conditions else ""
        requires.append(line + " " * ("@" in line) + marker)
    return tuple(requires)


def _read_installer(path: str) -> str | None:
    data = read_bounded(path, limit=MAX_SMALL_FILE_BYTES)
    if data is None:
        return None
    lines = decode_utf8(data, where=path).splitlines()
    return (lines[0].strip() if lines else "") or None


def _kind_without_direct_url(installer: str | None) -> SourceKind:
    if installer is None:
        return SourceKind.UNKNOWN
    if installer.lower() in INDEX_INSTALLERS:
        return SourceKind.INDEX
    if installer.lower() in CHANNEL_INSTALLERS:
        return SourceKind.CHANNEL
    return SourceKind.UNKNOWN


def _read_direct_url(path: str) -> tuple[Source, tuple[tuple[str, str], ...]] | None:
    """PEP 610: a VCS checkout (URL and commit), a local directory (editable or not) or an
    archive (a URL, with the hashes the installer checked). ``None`` when there is none."""
    data = read_bounded(path, limit=MAX_DIRECT_URL_BYTES)
    if data is None:
        return None
    document = load_json(decode_utf8(data, where=path), where=path)
    if not isinstance(document, dict):
        raise InputError("not a JSON object", where=path)
    url = document.get("url")
    if not isinstance(url, str) or not url:
        raise InputError("missing or not a string", where=path, key_path="url")
    infos = [key for key in ("vcs_info", "archive_info", "dir_info") if key in document]
    if len(infos) != 1:
        raise InputError(
            f"must hold exactly one of vcs_info, archive_info and dir_info (it holds {', '.join(infos) or 'none'})",
            where=path,
        )
    key = infos[0]
    info = document[key]
    if not isinstance(info, dict):
        raise InputError("not a JSON object", where=path, key_path=key)
    if key == "vcs_info":
        commit = info.get("commit_id")
        if not isinstance(commit, str) or not commit:
            raise InputError("missing or not a string", where=path, key_path="vcs_info.commit_id")
        return Source(kind=SourceKind.VCS, url=url, commit=commit), ()
    if key == "dir_info":
        editable = info.get("editable", False)
        if not isinstance(editable, bool):
            raise InputError("not true or false", where=path, key_path="dir_info.editable")
        return Source(kind=SourceKind.EDITABLE if editable else SourceKind.PATH, url=url), ()
    kind = SourceKind.PATH if url.lower().startswith("file:") else SourceKind.URL
    return Source(kind=kind, url=url), _archive_hashes(info, path)


def _archive_hashes(info: dict[str, object], path: str) -> tuple[tuple[str, str], ...]:
    """``archive_info.hashes`` (``{algorithm: hex}``) and the older ``archive_info.hash``
    (``"algorithm=hex"``), merged, lower-cased so equal digests compare equal, sorted."""
    found: set[tuple[str, str]] = set()
    mapping = info.get("hashes")
    if mapping is not None:
        if not isinstance(mapping, dict):
            raise InputError("not a JSON object", where=path, key_path="archive_info.hashes")
        for algorithm, value in mapping.items():
            if not isinstance(value, str) or not value:
                raise InputError("not a hex digest", where=path, key_path=f"archive_info.hashes.{algorithm}")
            found.add((str(algorithm).lower(), value.lower()))
    legacy = info.get("hash")
    if legacy is not None:
        algorithm, separator, value = legacy.partition("=") if isinstance(legacy, str) else ("", "", "")
        if not (algorithm and separator and value):
            raise InputError("not <algorithm>=<hex digest>", where=path, key_path="archive_info.hash")
        found.add((algorithm.lower(), value.lower()))
    return tuple(sorted(found))
