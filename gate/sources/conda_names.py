"""Conda names: which PyPI project a conda package is, and which platform a conda subdir is.

Shared by the conda readers (``environment.yml``, ``@EXPLICIT`` spec files, ``conda-lock.yml``)
and the CycloneDX reader (``pkg:conda`` purls), as are the two facts every conda format reads
the same way: the digests conda records for an artifact (:data:`DIGEST_LENGTHS`) and the
Python a solved environment installs (:func:`python_version`).

PyPI names
----------
Advisories are matched on ``Package.pypi_name``. A conda environment holds two kinds of
package: Python projects repackaged from PyPI (``numpy``, ``requests``), usually under the
same name, and everything else (``openssl``, ``cudatoolkit``, ``mkl``, ``_libgcc_mutex``, the
``python`` interpreter), some of which share a name with an unrelated PyPI project (conda's
``exiv2`` is the C++ library, PyPI's ``exiv2`` a binding with its own advisories; conda's
``tzdata`` is the IANA database versioned ``2024a``, PyPI's ``tzdata`` a Python package
versioned ``2024.1``). Matching the second kind against PyPI advisories by name would report
vulnerabilities of other software, so a conda package gets a PyPI name only on evidence, and
:func:`pypi_name_for` decides in this order:

1. Never a PyPI name: names that cannot be PyPI names at all (``_libgcc_mutex``,
   ``_openmp_mutex``: PEP 508 names start with a letter or digit), and the shipped
   ``not_pypi`` list (the interpreter: ``python``, ``python_abi``, ``cpython``; packages whose
   PyPI namesake is different software or a different packaging with other version numbers:
   ``py-opencv`` and ``opencv`` are conda's builds of OpenCV, not the ``opencv-python`` wheels
   and their bundled-library advisories; ``pyqt`` is PyQt5 or PyQt6 depending on its major
   version).
2. The shipped ``renames`` table, for conda names that differ from the PyPI name:
   ``pytorch`` -> ``torch``, ``numpy-base`` -> ``numpy`` (Anaconda's split of the numpy
   code out of its metapackage), ``matplotlib-base`` -> ``matplotlib``, ``msgpack-python``
   -> ``msgpack``, ``python-lmdb`` -> ``lmdb``, ``brotli-python`` -> ``brotli``...
3. Python evidence from the file: a conda-lock entry that depends on ``python`` or
   ``python_abi``, or a build string with a Python tag (``py39h1234567_0``, ``pyhd8ed1ab_0``,
   ``py_0``, ``cuda100py37h...``, ``py3.9_cuda11.3_cudnn8.2.0_0``: see
   :func:`build_has_python`). The PyPI name is then the conda name, normalised: conda-forge and
   Anaconda name a repackaged PyPI project after it.
4. The shipped ``python_packages`` list: conda names known to be PyPI projects of the same
   name, for specs that carry no build (``environment.yml``) and for metapackages whose build
   has no Python tag (Anaconda's ``keras-2.2.4-0``, ``tensorflow-gpu-1.13.1-h0d30ee6_0``).
5. Otherwise ``None``: never matched against PyPI advisories. The package still stays in the
   environment (ecosystem ``conda``) for the licence, source and pin checks.

The tables live in ``conda_pypi_names.json`` beside this module; its ``_about`` field says
how each was made (the renames curated from conda-forge and Anaconda feedstock outputs; the
Python package list derived from real conda lockfiles and reviewed). All names are compared
after PEP 503 normalisation, so ``typing_extensions`` and ``typing-extensions`` are one name.

The known gap: a conda Python package named in an ``environment.yml`` without a build string
and absent from the tables gets no PyPI name. The environment reader lists such packages in
the environment's notes, so the gap is visible in the report, never silent.

Package names
-------------
A conda package keeps its conda name (lower-cased, as conda compares names) in
``Package.name``, not the PEP 503 form: ``_`` and ``-`` are different conda names
(conda-forge ships ``typing_extensions`` and the metapackage ``typing-extensions`` side by
side, likewise ``importlib_metadata``/``importlib-metadata``, ``cached_property``...), so
normalising would make two distinct packages look like a duplicate install, and would turn
``_libgcc_mutex`` into ``-libgcc-mutex``, a name conda, the reports and a ``pkg:conda`` purl
do not know. The PyPI identity is ``pypi_name``, always PEP 503-normalised.

Platforms
---------
A conda subdir (``linux-64``, ``osx-arm64``, ``win-64``...) is turned into a PEP 508 marker
(``sys_platform == "linux" and platform_machine == "x86_64"``) built from the marker values
of the matching gate platform in :data:`gate.targets.PLATFORMS`, so target selection treats
conda packages exactly as it treats wheels. ``noarch`` has no marker of its own (the
explicit and conda-lock readers, which know the platform an environment was solved for, give
its ``noarch`` packages that platform's marker). A subdir the gate has no target for
(``linux-ppc64le``, ``linux-s390x``...) gets no marker either: the package is then kept for
every target (more findings, never a silent drop), and the readers
say so in the environment's notes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources

from packaging.utils import canonicalize_name

from gate.model import Package
from gate.targets import PLATFORMS

DATA_FILE = "conda_pypi_names.json"

# Conda subdir -> gate platform (gate.targets.PLATFORMS key).
SUBDIR_PLATFORMS: dict[str, str] = {
    "linux-64": "linux_x86_64",
    "linux-aarch64": "linux_aarch64",
    "osx-64": "macosx_x86_64",
    "osx-arm64": "macosx_arm64",
    "win-64": "win_amd64",
    "win-arm64": "win_arm64",
}
NOARCH = "noarch"
# Every subdir conda and conda-forge publish; those without a gate platform get no marker.
KNOWN_SUBDIRS = frozenset({
    *SUBDIR_PLATFORMS, NOARCH, "linux-32", "linux-armv6l", "linux-armv7l", "linux-ppc64", "linux-ppc64le",
    "linux-riscv64", "linux-s390x", "osx-32", "win-32", "emscripten-wasm32", "wasi-wasm32", "zos-z",
    "freebsd-64",
})

# A Python tag in a build string: py + a digit (py39, py3.9), py_ (old noarch), pyh<hash>
# (noarch python), pyge310 (conda-forge's noarch variants by minimum Python). The hash part of
# a build string is hex, so "py" cannot occur in it by chance.
_PYTHON_BUILD = re.compile(r"py(?:\d|_|h[0-9a-f]|ge\d)")
_PEP508_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)
_PYTHON_VERSION = re.compile(r"^3\.\d{1,2}(\.\d{1,3})?$")

# The artifact hashes conda records (URL fragments, conda-lock's hash tables, match specs'
# md5=/sha256=): algorithm -> the length of its hex digest.
DIGEST_LENGTHS = {"md5": 32, "sha256": 64}


@dataclass(frozen=True, kw_only=True, slots=True)
class NameTables:
    """The shipped tables, normalised."""

    renames: dict[str, str]
    not_pypi: frozenset[str]
    python_packages: frozenset[str]


@cache
def name_tables() -> NameTables:
    """The tables of ``conda_pypi_names.json``, read once. The file ships inside the package;
    a malformed one is a packaging bug, so its shape is checked by the tests, not here."""
    text = resources.files(__package__).joinpath(DATA_FILE).read_text(encoding="utf-8")
    data = json.loads(text)
    return NameTables(
        renames={canonicalize_name(conda): canonicalize_name(pypi) for conda, pypi in data["renames"].items()},
        not_pypi=frozenset(canonicalize_name(name) for name in data["not_pypi"]),
        python_packages=frozenset(canonicalize_name(name) for name in data["python_packages"]),
    )


def conda_package_name(name: str) -> str:
    """The name a conda package is reported under (see "Package names" above)."""
    return name.lower()


def build_has_python(build: str) -> bool:
    """Whether a conda build string carries a Python tag (see :data:`_PYTHON_BUILD`): the
    package was built for a Python version, or is a ``noarch: python`` package."""
    return _PYTHON_BUILD.search(build) is not None


def pypi_name_for(conda_name: str, *, python_evidence: bool | None) -> str | None:
    """The normalised PyPI name to match ``conda_name``'s advisories under, or ``None``.

    ``python_evidence`` is what the file says: ``True`` when it shows the package is a Python
    package (a ``python``/``python_abi`` dependency, a Python build tag), ``False`` when it
    was looked for and is absent, ``None`` when the file cannot tell (a spec without a build).
    Only ``True`` adds anything: the tables decide otherwise (see the module docstring)."""
    if not _PEP508_NAME.match(conda_name):
        return None
    name = canonicalize_name(conda_name)
    tables = name_tables()
    if name in tables.not_pypi:
        return None
    renamed = tables.renames.get(name)
    if renamed is not None:
        return renamed
    if python_evidence or name in tables.python_packages:
        return name
    return None


def subdir_marker(subdir: str) -> str | None:
    """The PEP 508 marker for packages of a conda subdir; ``None`` for ``noarch`` and for
    subdirs the gate has no target for (see the module docstring). Raises ``ValueError`` for a
    subdir that is not a conda platform at all (a typo or a broken URL)."""
    if subdir not in KNOWN_SUBDIRS:
        raise ValueError(f"'{subdir}' is not a conda platform")
    platform = SUBDIR_PLATFORMS.get(subdir)
    if platform is None:
        return None
    variables = PLATFORMS[platform]
    return f'sys_platform == "{variables["sys_platform"]}" and platform_machine == "{variables["platform_machine"]}"'


def subdir_platform(subdir: str) -> str | None:
    """The gate platform (:data:`gate.targets.PLATFORMS` key) of a conda subdir, if any."""
    return SUBDIR_PLATFORMS.get(subdir)


def untargeted_note(subdirs: set[str]) -> str | None:
    """The note a reader adds when packages are for subdirs the gate has no target for."""
    odd = sorted(subdir for subdir in subdirs if subdir != NOARCH and subdir not in SUBDIR_PLATFORMS)
    if not odd:
        return None
    return (f"conda platform {', '.join(odd)}: the gate has no target for it, so its packages carry no platform "
            "marker and are judged for every target")


@dataclass(frozen=True, kw_only=True, slots=True)
class Artifact:
    """A conda package file's URL taken apart: ``<channel>/<subdir>/<name>-<version>-<build>.<ext>``."""

    channel: str
    subdir: str
    filename: str
    name: str
    version: str
    build: str


CONDA_EXTENSIONS = (".tar.bz2", ".conda")


def split_filename(filename: str) -> tuple[str, str, str] | None:
    """``(name, version, build)`` of ``name-version-build.tar.bz2`` or ``.conda``; names may
    hold dashes, versions and builds may not, so the last two dash-separated fields are the
    version and the build. ``None`` when the file name is not of that shape."""
    for extension in CONDA_EXTENSIONS:
        if filename.endswith(extension):
            stem = filename[: -len(extension)]
            break
    else:
        return None
    parts = stem.rsplit("-", 2)
    if len(parts) != 3 or not all(parts):
        return None
    name, version, build = parts
    return name, version, build


def split_artifact_url(url: str) -> Artifact | None:
    """The channel, subdir and file of a conda package URL (fragment and query removed), or
    ``None`` when the URL does not end in ``/<subdir>/<conda file>``."""
    base = url.split("#", 1)[0].split("?", 1)[0]
    channel, _, rest = base.rpartition("/")
    channel, _, subdir = channel.rpartition("/")
    if not channel or not subdir or ("://" not in channel and not channel.startswith("/")):
        return None
    parts = split_filename(rest)
    if parts is None:
        return None
    name, version, build = parts
    return Artifact(channel=channel, subdir=subdir, filename=rest, name=name, version=version, build=build)


def python_version(packages: Iterable[Package]) -> str | None:
    """The version of the conda ``python`` package among ``packages``, when they hold exactly one
    and it is an interpreter version (``3.11.9``, not a build-variant string): the Python a
    solved conda environment installs, which becomes its target."""
    pythons = {package.version for package in packages if package.ecosystem == "conda" and package.name == "python"}
    python = next(iter(pythons)) if len(pythons) == 1 else None
    if python is not None and not _PYTHON_VERSION.match(python):
        python = None
    return python
