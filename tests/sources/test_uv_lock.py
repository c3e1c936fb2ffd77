"""The uv.lock reader on a hand-written lock (tests/assets/lockfiles/uv.lock) and on small
locks built here for the graph computations (markers, groups) and the error messages."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from packaging.markers import Marker

from gate.errors import InputError
from gate.model import Location, Package, Source, SourceKind
from gate.sources.uv_lock import MAX_ATOMS, UvLockReader
from tests.conftest import ASSETS

LOCK = ASSETS / "lockfiles" / "uv.lock" / "uv.lock"
PYPI = Source(kind=SourceKind.INDEX, url="https://pypi.org/simple")
HEADER = 'version = 1\nrevision = 3\nrequires-python = ">=3.10"\n'


def read(path: Path) -> dict[tuple[str, str | None], Package]:
    return {(p.name, p.version): p for p in UvLockReader().read(path, target=None).packages}


def write(tmp_path: Path, body: str, *, header: str = HEADER) -> Path:
    path = tmp_path / "uv.lock"
    path.write_text(header + body, encoding="utf-8")
    return path


def package(name: str, *, version: str | None = "1.0", source: str = '{ registry = "https://pypi.org/simple" }',
            extra: str = "") -> str:
    version_line = f'version = "{version}"\n' if version is not None else ""
    return f'\n[[package]]\nname = "{name}"\n{version_line}source = {source}\n{extra}'


def error(path: Path) -> str:
    with pytest.raises(InputError) as raised:
        UvLockReader().read(path, target=None)
    return str(raised.value)


# --- the hand-written lock --------------------------------------------------------------------------


def test_every_entry_with_its_pin_group_source_and_line() -> None:
    environment = UvLockReader().read(LOCK, target=None)
    assert environment.kind == "uv.lock"
    assert environment.source == str(LOCK)
    assert environment.target.python is None and environment.target.platform is None  # requires-python is a range
    rows = [(p.name, p.version, p.group, p.source.kind.value, p.location.line if p.location else None)
            for p in environment.packages]
    assert rows == [
        ("certifi", "2025.8.3", "runtime", "index", 9),
        ("colorama", "0.4.6", "dev", "index", 18),
        ("demo", "0.1.0", "runtime", "editable", 26),
        ("filelock", "3.19.1", "optional:gpu", "index", 63),
        ("gitpkg", "0.3.0", "runtime", "vcs", 71),
        ("iniconfig", "2.1.0", "dev", "index", 79),
        ("numpy", "1.26.4", "runtime", "index", 87),
        ("numpy", "2.1.0", "runtime", "index", 96),
        ("pysocks", "1.7.1", "runtime", "index", 105),
        ("pytest", "8.4.2", "dev", "index", 113),
        ("requests", "2.32.5", "runtime", "index", 126),
        ("tomli", "2.2.1", "runtime", "index", 143),
        ("torch", "2.5.1+cpu", "optional:gpu", "index", 151),
        ("urllib3", "2.5.0", "runtime", "index", 162),
        ("urlpkg", "1.0", "runtime", "url", 170),
        ("vendored", "1.0", "runtime", "path", 176),
    ]
    assert all(p.location == Location(file=str(LOCK), line=p.location.line) for p in environment.packages if p.location)
    assert all(p.pypi_name == p.name and p.ecosystem == "pypi" for p in environment.packages)


def test_sources() -> None:
    packages = read(LOCK)
    assert packages[("certifi", "2025.8.3")].source == PYPI
    assert packages[("torch", "2.5.1+cpu")].source == Source(kind=SourceKind.INDEX,
                                                             url="https://download.pytorch.org/whl/cpu")
    # uv's ?rev= query and #commit fragment are not part of the repository URL
    assert packages[("gitpkg", "0.3.0")].source == Source(kind=SourceKind.VCS,
                                                          url="https://github.com/example/gitpkg.git",
                                                          commit="0123456789abcdef0123456789abcdef01234567")
    assert packages[("urlpkg", "1.0")].source == Source(kind=SourceKind.URL, url="https://example.com/urlpkg-1.0.tar.gz")
    assert packages[("vendored", "1.0")].source == Source(kind=SourceKind.PATH,
                                                          url="vendor/vendored-1.0-py3-none-any.whl")
    assert packages[("demo", "0.1.0")].source == Source(kind=SourceKind.EDITABLE, url=".")


def test_hashes_from_sdist_and_wheels_lower_cased_and_sorted() -> None:
    packages = read(LOCK)
    assert packages[("certifi", "2025.8.3")].hashes == (
        ("sha256", "e564105f78ded564e3ae7c923924435e1daa7463faeab5bb932bc53ffae63407"),
        ("sha256", "f6c12493cfb1b06ba2ff328595af9350c65d6644968e5d3a2ffd78699af217a5"),
    )
    assert packages[("urlpkg", "1.0")].hashes == (("sha256", "1" * 64),)
    assert packages[("gitpkg", "0.3.0")].hashes == ()
    assert packages[("demo", "0.1.0")].hashes == ()


def test_markers_follow_the_paths_from_the_project() -> None:
    packages = read(LOCK)
    markers = {key: p.marker for key, p in packages.items()}
    assert markers == {
        ("certifi", "2025.8.3"): None,
        ("colorama", "0.4.6"): "sys_platform == 'win32'",
        ("demo", "0.1.0"): None,
        ("filelock", "3.19.1"): None,
        ("gitpkg", "0.3.0"): "sys_platform == 'linux'",
        ("iniconfig", "2.1.0"): None,
        ("numpy", "1.26.4"): "python_full_version < '3.11'",  # the forked duplicates: one per branch
        ("numpy", "2.1.0"): "python_full_version >= '3.11'",
        ("pysocks", "1.7.1"): None,  # reached through requests[socks]
        ("pytest", "8.4.2"): None,
        ("requests", "2.32.5"): None,
        ("tomli", "2.2.1"): "python_full_version < '3.11'",
        ("torch", "2.5.1+cpu"): None,
        ("urllib3", "2.5.0"): None,
        ("urlpkg", "1.0"): "sys_platform == 'linux'",  # inherited from gitpkg, which needs it unconditionally
        ("vendored", "1.0"): None,
    }


def test_requires_as_pep508_strings() -> None:
    packages = read(LOCK)
    assert packages[("demo", "0.1.0")].requires == (
        "gitpkg; sys_platform == 'linux'",
        "numpy==1.26.4; python_full_version < '3.11'",
        "numpy==2.1.0; python_full_version >= '3.11'",
        "requests[socks]",
        "tomli; python_full_version < '3.11'",
        "vendored",
        "torch; extra == 'gpu'",
    )
    assert packages[("requests", "2.32.5")].requires == ("certifi", "urllib3", "pysocks; extra == 'socks'")


# --- markers and groups computed from the graph ------------------------------------------------------


ROOT = 'source = { editable = "." }'


def test_markers_and_along_a_path_or_across_paths(tmp_path: Path) -> None:
    path = write(tmp_path, "".join([
        package("app", source='{ editable = "." }', extra='dependencies = [\n'
                '    { name = "a", marker = "sys_platform == \'linux\'" },\n'
                '    { name = "b", marker = "sys_platform == \'darwin\'" },\n]\n'),
        package("a", extra='dependencies = [{ name = "c", marker = "python_full_version < \'3.12\'" }]\n'),
        package("b", extra='dependencies = [{ name = "c" }]\n'),
        package("c", extra='dependencies = [{ name = "a" }]\n'),  # a cycle back to a
    ]))
    packages = read(path)
    assert packages[("c", "1.0")].marker == (
        "(python_full_version < '3.12' and sys_platform == 'linux') or (sys_platform == 'darwin')")
    # a is reached directly on linux and, through b and c, on darwin
    assert packages[("a", "1.0")].marker == "(sys_platform == 'darwin') or (sys_platform == 'linux')"


def test_complementary_branches_make_no_marker(tmp_path: Path) -> None:
    path = write(tmp_path, "".join([
        package("app", source='{ editable = "." }', extra='dependencies = [\n'
                '    { name = "a", marker = "python_full_version < \'3.11\'" },\n'
                '    { name = "b", marker = "python_full_version >= \'3.11\'" },\n]\n'),
        package("a", extra='dependencies = [{ name = "c" }]\n'),
        package("b", extra='dependencies = [{ name = "c" }]\n'),
        package("c"),
    ]))
    assert read(path)[("c", "1.0")].marker is None


def test_contradictory_path_adds_nothing(tmp_path: Path) -> None:
    path = write(tmp_path, "".join([
        package("app", source='{ editable = "." }', extra='dependencies = [\n'
                '    { name = "a", marker = "sys_platform == \'win32\'" },\n'
                '    { name = "b", marker = "os_name == \'posix\'" },\n]\n'),
        package("a", extra='dependencies = [{ name = "c", marker = "sys_platform != \'win32\'" }]\n'),
        package("b", extra='dependencies = [{ name = "c" }]\n'),
        package("c"),
    ]))
    assert read(path)[("c", "1.0")].marker == "os_name == 'posix'"


def test_too_many_alternatives_give_no_marker(tmp_path: Path) -> None:
    """Six levels of two-way choices make 64 alternatives: past the bound, the package is
    judged everywhere (over-approximated, never under)."""
    parts = [package("app", source='{ editable = "." }', extra='dependencies = [{ name = "n0" }]\n')]
    for level in range(6):
        parts.append(package(f"n{level}", extra='dependencies = [\n'
                             f'    {{ name = "a{level}", marker = "os_name == \'a{level}\'" }},\n'
                             f'    {{ name = "b{level}", marker = "os_name == \'b{level}\'" }},\n]\n'))
        parts.append(package(f"a{level}", extra=f'dependencies = [{{ name = "n{level + 1}" }}]\n'))
        parts.append(package(f"b{level}", extra=f'dependencies = [{{ name = "n{level + 1}" }}]\n'))
    parts.append(package("n6"))
    packages = read(write(tmp_path, "".join(parts)))
    assert packages[("n2", "1.0")].marker is not None  # 4 alternatives: kept
    assert packages[("n6", "1.0")].marker is None


def test_too_long_a_path_keeps_a_weaker_condition(tmp_path: Path) -> None:
    parts = [package("app", source='{ editable = "." }', extra='dependencies = [{ name = "p0" }]\n')]
    for level in range(12):
        parts.append(package(f"p{level}", extra=f'dependencies = [{{ name = "p{level + 1}", '
                             f'marker = "platform_release == \'r{level:02d}\'" }}]\n'))
    parts.append(package("p12"))
    marker = read(write(tmp_path, "".join(parts)))[("p12", "1.0")].marker
    assert marker is not None
    assert marker.count(" and ") == MAX_ATOMS - 1
    Marker(marker)


def test_past_the_work_budget_no_package_gets_a_marker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("gate.sources.uv_lock.MAX_MARKER_STEPS", 3)
    packages = read(LOCK)
    assert all(p.marker is None for p in packages.values())
    assert packages[("pytest", "8.4.2")].group == "dev"  # groups do not depend on the budget


def test_conflicting_groups_become_lock_file_variables(tmp_path: Path) -> None:
    cpu = "extra == 'group-3-app-cpu'"
    path = write(tmp_path, "".join([
        package("app", version=None, source='{ editable = "." }', extra=(
            'dependencies = [\n'
            f'    {{ name = "torch", version = "2.0+cpu", marker = "{cpu}" }},\n'
            f'    {{ name = "torch", version = "2.0+cu128", marker = "extra != \'group-3-app-cpu\'" }},\n'
            '    { name = "other", marker = "extra == \'group-5-nobody-x\'" },\n'
            ']\n')),
        package("torch", version="2.0+cpu"),
        package("torch", version="2.0+cu128"),
        package("other"),
    ]))
    packages = read(path)
    assert packages[("torch", "2.0+cpu")].marker == "'cpu' in dependency_groups"
    assert packages[("torch", "2.0+cu128")].marker == "'cpu' not in dependency_groups"
    assert packages[("other", "1.0")].marker == "extra == 'group-5-nobody-x'"  # no such package: verbatim
    assert packages[("app", None)].requires[0] == f"torch==2.0+cpu; {cpu}"  # requires keep uv's own text
    linux: dict[str, str | frozenset[str]] = {"sys_platform": "linux", "extra": "", "extras": frozenset(),
                                              "dependency_groups": frozenset({"cpu"})}
    assert Marker("'cpu' in dependency_groups").evaluate(linux, context="lock_file")


def test_groups_runtime_first_then_the_sorted_first_group_or_extra(tmp_path: Path) -> None:
    path = write(tmp_path, "".join([
        package("app", source='{ editable = "." }', extra=(
            'dependencies = [{ name = "shared" }]\n'
            '[package.optional-dependencies]\nalpha = [{ name = "both" }]\n'
            '[package.dev-dependencies]\ntest = [{ name = "both" }, { name = "shared" }]\n'
            'docs = [{ name = "doctool" }]\n')),
        package("shared"),
        package("both"),
        package("doctool", extra='dependencies = [{ name = "shared" }]\n'),
    ]))
    packages = read(path)
    assert packages[("shared", "1.0")].group == "runtime"
    assert packages[("both", "1.0")].group == "optional:alpha"  # "optional:alpha" < "test"
    assert packages[("doctool", "1.0")].group == "docs"
    assert packages[("app", "1.0")].group == "runtime"


def test_workspace_members_from_the_manifest_and_a_virtual_root(tmp_path: Path) -> None:
    path = write(tmp_path, "\n[manifest]\nmembers = [\"root\", \"lib\"]\n" + "".join([
        package("root", version=None, source='{ virtual = "." }', extra='dependencies = [{ name = "lib" }]\n'),
        package("lib", version="0.2", source='{ editable = "packages/lib" }',
                extra='dependencies = [{ name = "dep", marker = "os_name == \'nt\'" }]\n'),
        package("dep"),
    ]))
    packages = read(path)
    assert sorted(packages) == [("dep", "1.0"), ("lib", "0.2")]  # the virtual root is never installed
    assert packages[("lib", "0.2")].source == Source(kind=SourceKind.EDITABLE, url="packages/lib")
    assert packages[("lib", "0.2")].marker is None  # a member: always there
    assert packages[("dep", "1.0")].marker == "os_name == 'nt'"


def test_a_lock_without_a_project_starts_from_the_manifest_requirements(tmp_path: Path) -> None:
    path = write(tmp_path, (
        '\n[manifest]\nrequirements = [{ name = "a", marker = "os_name == \'posix\'" }]\n'
        '\n[manifest.dependency-groups]\nlint = [{ name = "b" }]\n'
    ) + package("a") + package("b"))
    packages = read(path)
    assert packages[("a", "1.0")].group == "runtime"
    assert packages[("a", "1.0")].marker == "os_name == 'posix'"
    assert packages[("b", "1.0")].group == "lint"


# --- detection -----------------------------------------------------------------------------------------


def test_detects_uv_lock_by_content(tmp_path: Path) -> None:
    reader = UvLockReader()
    assert reader.detect(LOCK)
    renamed = tmp_path / "anything.toml"
    renamed.write_bytes(LOCK.read_bytes())
    assert reader.detect(renamed)


@pytest.mark.parametrize("text", [
    "",
    'lock-version = "1.0"\nversion = 1\ncreated-by = "uv"\n\n[[packages]]\nname = "a"\n',  # pylock.toml
    '# This file is automatically @generated by Cargo.\nversion = 3\n\n[[package]]\nname = "a"\n'
    'source = "registry+https://github.com/rust-lang/crates.io-index"\n',  # Cargo.lock
    '[[package]]\nname = "a"\nversion = "1.0"\nsource = { registry = "x" }\n',  # no top-level version
    "requests==2.32.5\n",
    '{"_meta": {}, "default": {}}',
])
def test_does_not_detect_other_files(tmp_path: Path, text: str) -> None:
    path = tmp_path / "uv.lock"
    path.write_text(text, encoding="utf-8")
    assert not UvLockReader().detect(path)


def test_detection_never_raises_on_junk(tmp_path: Path) -> None:
    reader = UvLockReader()
    binary = tmp_path / "binary"
    binary.write_bytes(b"version = 1\x00\xff\xfe" * 1000)
    assert not reader.detect(binary)
    assert not reader.detect(tmp_path / "missing")
    assert not reader.detect(tmp_path)  # a directory
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert not reader.detect(fifo)  # not opened: opening a FIFO would block


# --- errors --------------------------------------------------------------------------------------------


def test_truncated_file(tmp_path: Path) -> None:
    text = LOCK.read_text(encoding="utf-8")
    path = tmp_path / "uv.lock"
    path.write_text(text[: text.index("hash = \"sha256:E564") + 20], encoding="utf-8")
    assert error(path) == f"{path}:13: not valid TOML (Unterminated string)"


def test_binary_junk(tmp_path: Path) -> None:
    path = tmp_path / "uv.lock"
    path.write_bytes(b"version = 1\n\xff\xfe\x00junk")
    assert error(path) == f"{path}:2: not valid UTF-8 (invalid start byte: byte 0xff at offset 12)"
    path.write_bytes(b"version = 1\n\x00\x01\x02")
    assert error(path) == f"{path}:2: not valid TOML (Invalid statement)"


def test_too_large(tmp_path: Path) -> None:
    path = write(tmp_path, package("a"))
    size = path.stat().st_size
    with pytest.raises(InputError) as raised:
        UvLockReader(max_bytes=100).read(path, target=None)
    assert str(raised.value) == f"{path}: {size} bytes, over the limit of 100"


def test_missing_file(tmp_path: Path) -> None:
    assert error(tmp_path / "uv.lock") == f"{tmp_path / 'uv.lock'}: no such file"


@pytest.mark.parametrize(("body", "line", "message"), [
    (package("a", extra="version = 2\n").replace('version = "1.0"\n', ""), 5,
     "package[0].version: expected a string, got an integer"),
    ('\n[[package]]\nname = "a"\nversion = "1.0"\n', 5, "package[0].source: missing"),
    (package("a", source='{ registry = "x", editable = "." }'), 5,
     "package[0].source: expected exactly one of registry, git, url, path, directory, editable, virtual "
     "(found: editable, registry)"),
    (package("a", source='{ git = "https://example.com/a.git?rev=main" }'), 5,
     "package[0].source.git: no commit after '#' in 'https://example.com/a.git?rev=main'"),
    # found by benchmarks/fuzz_inputs.py: urlsplit raised ValueError (exit 70)
    (package("a", source='{ git = "https://[example.com/a.git#0123abc" }'), 5,
     "package[0].source.git: not a valid URL: 'https://[example.com/a.git#0123abc' (Invalid IPv6 URL)"),
    (package("a", extra='wheels = [{ url = "x", hash = "md5-abc" }]\n'), 5,
     "package[0].wheels[0].hash: expected '<algorithm>:<hex digest>', got 'md5-abc'"),
    (package("a", extra='wheels = ["a.whl"]\n'), 5, "package[0].wheels[0]: expected a table, got a string"),
    (package("a", extra='dependencies = [{ name = "b" }]\n'), 5,
     "package[0].dependencies[0]: no package entry for b (the lock is inconsistent)"),
    (package("a", extra='dependencies = [{ name = "b", marker = "python_version >> \'3\'" }]\n') + package("b"), 5,
     "package[0].dependencies[0].marker: invalid environment marker \"python_version >> '3'\" "
     "(Expected a marker variable or quoted string)"),
    (package("a", extra='dependencies = [{ name = "b" }]\n') + package("b") + package("b", version="2.0"), 5,
     "package[0].dependencies[0]: 2 package entries for b (the lock is inconsistent)"),
    ('\npackage = "a"\n', None, "package: expected an array, got a string"),
])
def test_wrong_types_and_inconsistencies(tmp_path: Path, body: str, line: int | None, message: str) -> None:
    path = write(tmp_path, body)
    where = f"{path}:{line}" if line is not None else str(path)
    assert error(path) == f"{where}: {message}"


def test_unsupported_version(tmp_path: Path) -> None:
    path = write(tmp_path, package("a"), header='version = 2\nrequires-python = ">=3.10"\n')
    assert error(path) == f"{path}: version: uv.lock version 2 is not supported (this reader knows version 1)"
    path = write(tmp_path, package("a"), header='requires-python = ">=3.10"\n')
    assert error(path) == f"{path}: version: missing or not an integer (is this a uv.lock?)"
