"""The poetry.lock reader: a hand-written lock-version 2.1 file (tests/assets/lockfiles/poetry.lock)
and small 2.0 and 1.x locks built here, the constraint conversion, detection and errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from gate.errors import InputError
from gate.model import Package, Source, SourceKind
from gate.sources.poetry_lock import PoetryLockReader, _pep440, _python_marker
from tests.conftest import ASSETS

LOCK = ASSETS / "lockfiles" / "poetry.lock" / "poetry.lock"
PYPI = Source(kind=SourceKind.INDEX, url="https://pypi.org/simple")


def read(path: Path) -> dict[str, Package]:
    return {p.name: p for p in PoetryLockReader().read(path, target=None).packages}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "poetry.lock"
    path.write_text(text, encoding="utf-8")
    return path


def error(path: Path) -> str:
    with pytest.raises(InputError) as raised:
        PoetryLockReader().read(path, target=None)
    return str(raised.value)


# --- lock-version 2.1 -------------------------------------------------------------------------------


def test_every_entry_with_pin_group_and_line() -> None:
    environment = PoetryLockReader().read(LOCK, target=None)
    assert environment.kind == "poetry.lock"
    assert environment.target.python is None  # metadata.python-versions is a range
    rows = [(p.name, p.version, p.group, p.location.line if p.location else None) for p in environment.packages]
    assert rows == [
        ("colorama", "0.4.6", "runtime", 3),
        ("gym-dora", "0.1.0", "optional:dora", 16),  # optional, named by [extras] dora
        ("libtpu-nightly", "0.1.dev20241010+nightly.cleanup", "xla", 36),
        ("localpkg", "0.0.1", "runtime", 52),
        ("numpy", "2.1.0", "runtime", 80),
        ("pyarrow", "17.0.0", "optional:dora", 92),  # optional, reached through gym-dora
        ("pytest", "8.3.3", "dev", 106),
        ("tarball", "1.0", "runtime", 121),
        ("wheelfile", "2.0", "runtime", 136),
    ]


def test_sources() -> None:
    packages = read(LOCK)
    assert packages["colorama"].source == PYPI  # no [package.source]: Poetry's default, PyPI
    assert packages["gym-dora"].source == Source(kind=SourceKind.VCS, url="https://github.com/dora-rs/dora-lerobot.git",
                                                 commit="7844fbdb97d467a4672be3eb102ebca96211e95b")
    assert packages["libtpu-nightly"].source == Source(
        kind=SourceKind.INDEX, url="https://storage.googleapis.com/libtpu-releases/index.html")
    assert packages["localpkg"].source == Source(kind=SourceKind.EDITABLE, url="../localpkg")  # develop = true
    assert packages["tarball"].source == Source(kind=SourceKind.URL, url="https://example.com/tarball-1.0.tar.gz")
    assert packages["wheelfile"].source == Source(kind=SourceKind.PATH, url="dist/wheelfile-2.0-py3-none-any.whl")


def test_hashes_and_markers() -> None:
    packages = read(LOCK)
    assert packages["colorama"].hashes == (
        ("sha256", "08695f5cb7ed6e0531a20572697297273c47b8cae5a63ffc6d6ed5c201be6e44"),
        ("sha256", "4f1d9991f5acc0ca119f9d443620b77f9d6b33703e51011c16baf57afb285fc6"),
    )
    assert packages["gym-dora"].hashes == ()
    assert packages["colorama"].marker == 'platform_system == "Windows"'  # the main group's marker
    assert packages["numpy"].marker == 'python_version >= "3.10"'
    assert packages["pytest"].marker is None


def test_requires_in_pep508() -> None:
    assert read(LOCK)["localpkg"].requires == (
        'numpy>=1.26.0; python_version >= "3.12"',
        'numpy>=1.22.4; python_version < "3.12"',
        "requests[socks]>=2.31,<3",
        "protobuf>=3.20.2,!=4.21.1,<5.0.0dev",
        "google-api-core",  # a union PEP 440 cannot say: the name alone
        'gym-dora; extra == "sim"',
        'sphinx (>=7.0); (python_version >= "3.10") and extra == "docs"',
    )


def test_per_group_markers_of_a_development_only_package(tmp_path: Path) -> None:
    path = write(tmp_path, (
        '[[package]]\nname = "colorama"\nversion = "0.4.6"\noptional = false\ngroups = ["dev", "docs"]\n'
        'markers = {dev = "sys_platform == \\"win32\\"", docs = "os_name == \\"nt\\""}\nfiles = []\n'
        '\n[[package]]\nname = "partial"\nversion = "1"\noptional = false\ngroups = ["dev", "docs"]\n'
        'markers = {dev = "sys_platform == \\"win32\\""}\nfiles = []\n'
        '\n[metadata]\nlock-version = "2.1"\npython-versions = "^3.10"\ncontent-hash = "x"\n'))
    packages = read(path)
    assert packages["colorama"].group == "dev"
    assert packages["colorama"].marker == '(sys_platform == "win32") or (os_name == "nt")'
    assert packages["partial"].marker is None  # no marker for docs: installed there unconditionally


# --- older lock versions ---------------------------------------------------------------------------


def test_lock_version_2_0_has_no_groups_so_all_is_runtime_except_extras(tmp_path: Path) -> None:
    path = write(tmp_path, (
        '# This file is automatically @generated by Poetry 1.8.3 and should not be changed by hand.\n'
        '\n[[package]]\nname = "pytest"\nversion = "8.0.0"\noptional = false\npython-versions = ">=3.8"\n'
        'files = [{file = "pytest-8.0.0.tar.gz", hash = "sha256:aa"}]\n'
        '\n[[package]]\nname = "torch"\nversion = "2.1.0"\noptional = true\npython-versions = ">=3.8"\nfiles = []\n'
        '\n[package.dependencies]\nfilelock = "*"\n'
        '\n[[package]]\nname = "filelock"\nversion = "3.0"\noptional = true\npython-versions = "*"\nfiles = []\n'
        '\n[[package]]\nname = "orphan"\nversion = "1.0"\noptional = true\npython-versions = "*"\nfiles = []\n'
        '\n[extras]\ngpu = ["torch"]\ncuda = ["torch (>=2)"]\n'
        '\n[metadata]\nlock-version = "2.0"\npython-versions = "^3.10"\ncontent-hash = "x"\n'))
    packages = read(path)
    assert {name: (p.group, p.marker) for name, p in packages.items()} == {
        "pytest": ("runtime", None),  # a dev tool, but 2.0 does not say so: judged (fail closed)
        "torch": ("optional:cuda", None),
        "filelock": ("optional:cuda", None),
        "orphan": ("runtime", None),  # optional, but no extra names it
    }
    assert packages["pytest"].hashes == (("sha256", "aa"),)


def test_lock_version_1_categories_and_metadata_files(tmp_path: Path) -> None:
    path = write(tmp_path, (
        '[[package]]\nname = "Django"\nversion = "2.2"\ndescription = ""\ncategory = "main"\noptional = false\n'
        'python-versions = ">=3.5"\n\n[package.dependencies]\npytz = "*"\n'
        'sqlparse = {version = "*", python = ">=3.6 || <3.0"}\ntyping = {version = "*", platform = "win32"}\n'
        '\n[[package]]\nname = "mypy"\nversion = "0.900"\ndescription = ""\ncategory = "dev"\noptional = false\n'
        'python-versions = ">=3.5"\n'
        '\n[metadata]\nlock-version = "1.1"\npython-versions = "^3.8"\ncontent-hash = "x"\n'
        '\n[metadata.files]\ndjango = [\n    {file = "Django-2.2.tar.gz", hash = "sha256:BB"},\n]\nmypy = []\n'))
    packages = read(path)
    assert packages["django"].group == "runtime"
    assert packages["django"].hashes == (("sha256", "bb"),)
    assert packages["django"].requires == (
        "pytz", 'sqlparse; (python_version >= "3.6") or (python_version < "3.0")', 'typing; sys_platform == "win32"')
    assert packages["mypy"].group == "dev"
    assert packages["mypy"].hashes == ()


def test_oldest_metadata_hashes(tmp_path: Path) -> None:
    path = write(tmp_path, (
        '[[package]]\nname = "six"\nversion = "1.12.0"\ncategory = "main"\noptional = false\n'
        'python-versions = "*"\n\n[metadata]\ncontent-hash = "x"\npython-versions = "*"\n'
        '\n[metadata.hashes]\nsix = ["ABCDEF", "012345"]\n'))
    assert read(path)["six"].hashes == (("sha256", "012345"), ("sha256", "abcdef"))


@pytest.mark.parametrize(("constraint", "expected"), [
    ("*", ""),
    ("", ""),
    ("4.30.0", "==4.30.0"),
    ("^1.2.3", ">=1.2.3,<2"),
    ("^0.2.3", ">=0.2.3,<0.3"),
    ("^0.0.3", ">=0.0.3,<0.0.4"),
    ("~1.2.3", ">=1.2.3,<1.3"),
    ("~1", ">=1,<2"),
    ("~=1.2", "~=1.2"),
    (">=1.25.4,<2.2.0 || >2.2.0,<3", ">=1.25.4,!=2.2.0,<3"),
    ("<4.0.0a0 || >4.0.0a0,<4.0.0a1 || >4.0.0a1", "!=4.0.0a0,!=4.0.0a1"),
    (">=4.12,<5.0.dev0 || >=5.1.dev0", ">=4.12,!=5.0.*"),
    (">=1.34.1,<2.0.dev0 || >=2.11.dev0,<3.0.0dev", None),
    ("^not-a-version", None),
    (">=1.0 <2.0", None),
])
def test_poetry_constraints_as_pep440(constraint: str, expected: str | None) -> None:
    assert _pep440(constraint) == expected


def test_python_constraints_as_markers() -> None:
    assert _python_marker("^3.7") == 'python_version >= "3.7" and python_version < "4"'
    assert _python_marker(">=3.6.1") == 'python_full_version >= "3.6.1"'
    assert _python_marker("*") == ""
    assert _python_marker("^x") is None


# --- detection ---------------------------------------------------------------------------------------


def test_detects_poetry_by_header_or_trailing_metadata(tmp_path: Path) -> None:
    reader = PoetryLockReader()
    assert reader.detect(LOCK)
    body = LOCK.read_text(encoding="utf-8").split("\n", 1)[1]
    headless = tmp_path / "headless.lock"
    headless.write_text(body, encoding="utf-8")
    assert reader.detect(headless)
    # a large old lock without the header: [metadata] is only in the last bytes
    padding = '\n[[package]]\nname = "p{0}"\nversion = "1"\ncategory = "main"\noptional = false\n' \
              'python-versions = "*"\ndescription = "' + "x" * 200 + '"\n'
    large = tmp_path / "large.lock"
    large.write_text("".join(padding.format(i) for i in range(600))
                     + '\n[metadata]\nlock-version = "1.1"\npython-versions = "*"\ncontent-hash = "x"\n',
                     encoding="utf-8")
    assert large.stat().st_size > 2 * 64 * 1024
    assert reader.detect(large)
    assert len(reader.read(large, target=None).packages) == 600


@pytest.mark.parametrize("text", [
    "",
    "# This file is @generated by PDM.\n[metadata]\nlock_version = \"4.4.1\"\ncontent_hash = \"x\"\n",
    'lock-version = "1.0"\ncreated-by = "uv"\n\n[[packages]]\nname = "a"\n',
    'version = 1\nrequires-python = ">=3.10"\n\n[[package]]\nname = "a"\nsource = { registry = "x" }\n',
    "[metadata]\ncontent-hash = \"x\"\n",  # neither lock-version nor python-versions
])
def test_does_not_detect_other_files(tmp_path: Path, text: str) -> None:
    path = tmp_path / "poetry.lock"
    path.write_text(text, encoding="utf-8")
    assert not PoetryLockReader().detect(path)


def test_detection_never_raises_on_junk(tmp_path: Path) -> None:
    binary = tmp_path / "binary"
    binary.write_bytes(b"# This file is automatically @generated by Poetry\x00\xff")
    assert not PoetryLockReader().detect(binary)
    assert not PoetryLockReader().detect(tmp_path)
    assert not PoetryLockReader().detect(tmp_path / "missing")


# --- errors ------------------------------------------------------------------------------------------


def test_truncated_file(tmp_path: Path) -> None:
    text = LOCK.read_text(encoding="utf-8")
    path = write(tmp_path, text[: text.index('"sha256:4F1D') + 10])
    assert error(path) == f"{path}:11: not valid TOML (Unterminated string)"


def test_binary_junk(tmp_path: Path) -> None:
    path = tmp_path / "poetry.lock"
    path.write_bytes(b"[[package]]\n\xc3\x28")
    assert error(path) == f"{path}:2: not valid UTF-8 (invalid continuation byte: byte 0xc3 at offset 12)"


@pytest.mark.parametrize(("body", "message"), [
    ('name = "a"\nversion = 1\n', "package[0].version: expected a string, got an integer"),
    ('version = "1"\n', "package[0].name: missing"),
    ('name = "a"\nversion = "1"\ngroups = "main"\n', "package[0].groups: expected an array, got a string"),
    ('name = "a"\nversion = "1"\noptional = "no"\n', "package[0].optional: expected true or false, got a string"),
    ('name = "a"\nversion = "1"\nmarkers = "os_name = \'nt\'"\n',
     "package[0].markers: invalid environment marker \"os_name = 'nt'\" "
     "(Expected marker operator, one of <=, <, !=, ==, >=, >, ~=, ===, in, not in)"),
    ('name = "a"\nversion = "1"\nfiles = [{file = "a.whl", hash = "sha256"}]\n',
     "package[0].files[0].hash: expected '<algorithm>:<hex digest>', got 'sha256'"),
    ('name = "a"\nversion = "1"\n[package.source]\ntype = "svn"\nurl = "x"\n',
     "package[0].source.type: unknown source type 'svn' (known: git, legacy, directory, file, url)"),
    ('name = "a"\nversion = "1"\n[package.dependencies]\nb = 3\n',
     "package[0].dependencies.b: expected a table, got an integer"),
    ('name = "a"\nversion = "1"\n[package.extras]\nx = ["ok", 1]\n',
     "package[0].extras.x[1]: expected a string, got an integer"),
])
def test_wrong_types(tmp_path: Path, body: str, message: str) -> None:
    path = write(tmp_path, "# header\n\n[[package]]\n" + body)
    assert error(path) == f"{path}:3: {message}"


def test_unsupported_lock_version(tmp_path: Path) -> None:
    path = write(tmp_path, '[metadata]\nlock-version = "3.0"\ncontent-hash = "x"\n')
    assert error(path) == (f"{path}: metadata.lock-version: "
                           "lock-version 3.0 is not supported (this reader knows 1.x and 2.x)")
