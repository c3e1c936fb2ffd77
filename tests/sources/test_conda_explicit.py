"""conda @EXPLICIT spec files: URLs, hash fragments, the file's platform, errors and detection."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gate.errors import InputError
from gate.model import SourceKind, Target
from gate.sources.conda_explicit import CondaExplicitReader
from tests.conftest import ASSETS

ASSET = ASSETS / "lockfiles" / "conda-explicit" / "spec-file.txt"
READER = CondaExplicitReader()
LINUX = 'sys_platform == "linux" and platform_machine == "x86_64"'
FORGE = "https://conda.anaconda.org/conda-forge"
NUMPY_URL = f"{FORGE}/linux-64/numpy-1.26.4-py311h64a7726_0.conda"
NUMPY_SHA256 = "3f4365e11b28e244c95ba8579942b0802761ba7bb31c026f50d1a9ea9c728149"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "spec-file.txt"
    path.write_text(text, encoding="utf-8")
    return path


def error(path: Path) -> str:
    with pytest.raises(InputError) as raised:
        READER.read(path, target=None)
    return str(raised.value)


def test_asset_exactly() -> None:
    environment = READER.read(ASSET, target=None)
    assert environment.kind == "conda-explicit"
    assert environment.target == Target(python="3.11.8", platform="linux_x86_64")
    assert environment.notes == ()
    rows = [(p.name, p.version, p.pypi_name, p.source.url, p.hashes, p.location.line if p.location else None)
            for p in environment.packages]
    assert rows == [
        ("_libgcc_mutex", "0.1", None, FORGE, (("md5", "d7c89558ba9fa0495403155b64376d81"),), 5),
        ("exiv2", "0.28.2", None, FORGE, (), 14),  # the C++ library; PyPI's exiv2 is another project
        ("libgcc-ng", "13.2.0", None, FORGE, (), 6),
        ("numpy", "1.26.4", "numpy", FORGE, (("sha256", NUMPY_SHA256),), 10),
        ("openssl", "3.2.1", None, FORGE, (("md5", "9a9abcb8f3e3d3c2b1a0f9e8d7c6b5a4"),), 7),
        ("python", "3.11.8", None, FORGE, (), 8),
        ("pytorch", "2.1.0", "torch", "https://conda.anaconda.org/pytorch", (), 13),
        # two conda packages (the metapackage and the real one), one PyPI project
        ("typing-extensions", "4.9.0", "typing-extensions", FORGE, (), 12),
        ("typing_extensions", "4.9.0", "typing-extensions", FORGE, (), 11),
        ("tzdata", "2024a", None, FORGE, (), 9),  # the IANA database, versioned 2024a: not PyPI's tzdata
    ]
    for package in environment.packages:
        assert package.ecosystem == "conda"
        assert package.source.kind is SourceKind.CHANNEL
        assert package.marker == LINUX  # noarch packages too: the file is the linux-64 environment
        assert (package.group, package.specifier, package.requires) == ("runtime", None, ())


@pytest.mark.parametrize(("fragment", "expected"), [
    ("d7c89558ba9fa0495403155b64376d81", ("md5", "d7c89558ba9fa0495403155b64376d81")),
    ("md5=D7C89558BA9FA0495403155B64376D81", ("md5", "d7c89558ba9fa0495403155b64376d81")),
    ("md5:d7c89558ba9fa0495403155b64376d81", ("md5", "d7c89558ba9fa0495403155b64376d81")),
    (NUMPY_SHA256, ("sha256", NUMPY_SHA256)),
    (f"sha256={NUMPY_SHA256}", ("sha256", NUMPY_SHA256)),
    (f"sha256:{NUMPY_SHA256.upper()}", ("sha256", NUMPY_SHA256)),
])
def test_hash_fragments(tmp_path: Path, fragment: str, expected: tuple[str, str]) -> None:
    path = write(tmp_path, f"@EXPLICIT\n{NUMPY_URL}#{fragment}\n")
    assert READER.read(path, target=None).packages[0].hashes == (expected,)


def test_the_platform_without_a_comment(tmp_path: Path) -> None:
    path = write(tmp_path, f"@EXPLICIT\n{FORGE}/noarch/six-1.16.0-pyh6c4a22f_0.tar.bz2\n"
                           f"{FORGE}/osx-arm64/python-3.12.2-hdf0ec26_0_cpython.conda\n")
    environment = READER.read(path, target=None)
    assert environment.target == Target(python="3.12.2", platform="macosx_arm64")
    assert {p.marker for p in environment.packages} == {'sys_platform == "darwin" and platform_machine == "arm64"'}
    noarch_only = write(tmp_path, f"@EXPLICIT\n{FORGE}/noarch/six-1.16.0-pyh6c4a22f_0.tar.bz2\n")
    environment = READER.read(noarch_only, target=None)
    assert (environment.target, environment.packages[0].marker, environment.packages[0].pypi_name) == (
        Target(), None, "six")


def test_a_platform_without_a_gate_target_is_noted(tmp_path: Path) -> None:
    path = write(tmp_path, f"# platform: linux-ppc64le\n@EXPLICIT\n{FORGE}/linux-ppc64le/zlib-1.3.1-h31becfc_0.conda\n")
    environment = READER.read(path, target=None)
    assert (environment.target, environment.packages[0].marker) == (Target(), None)
    assert environment.notes == ("conda platform linux-ppc64le: the gate has no target for it, so its packages carry "
                                 "no platform marker and are judged for every target",)


@pytest.mark.parametrize(("text", "message"), [
    ("", ": no @EXPLICIT line (not a conda explicit spec file)"),
    ("# platform: linux-64\n# nothing else\n", ": no @EXPLICIT line (not a conda explicit spec file)"),
    (f"{NUMPY_URL}\n@EXPLICIT\n", f":1: expected @EXPLICIT before the package URLs, got '{NUMPY_URL[:77]}...'"),
    ("@EXPLICIT\nnumpy=1.26.4\n", ":2: expected a package URL, got 'numpy=1.26.4'"),
    ("@EXPLICIT\n@EXPLICIT\n", ":2: a second @EXPLICIT line"),
    (f"@EXPLICIT\n{FORGE}/linux-64/numpy-1.26.4.tar.gz\n",
     f":2: not a conda package URL (<channel>/<subdir>/<name>-<version>-<build>.conda or .tar.bz2): "
     f"'{FORGE}/linux-64/numpy-1.26.4.tar.gz'"),
    (f"@EXPLICIT\n{FORGE}/linux-65/numpy-1.26.4-0.conda\n",
     f":2: 'linux-65' is not a conda platform (in '{FORGE}/linux-65/numpy-1.26.4-0.conda')"),
    (f"@EXPLICIT\n{NUMPY_URL}#abc\n", ":2: #abc: not an md5 or sha256 hex digest"),
    (f"@EXPLICIT\n{NUMPY_URL}#md5={NUMPY_SHA256}\n", f":2: #md5={NUMPY_SHA256}: not an md5 or sha256 hex digest"),
    (f"@EXPLICIT\n{NUMPY_URL}#sha1=0123\n", ":2: #sha1=0123: not an md5 or sha256 hex digest"),
    (f"# platform: linux-64\n@EXPLICIT\n{FORGE}/osx-64/numpy-1.26.4-py311h1234567_0.conda\n",
     ":3: a package for osx-64 in a spec file for linux-64 (one file is one platform)"),
    (f"@EXPLICIT\n{NUMPY_URL}\n{FORGE}/win-64/numpy-1.26.4-py311h1234567_0.conda\n",
     ":3: a package for win-64 in a spec file for linux-64 (one file is one platform)"),
    ("# platform: noarch\n@EXPLICIT\n", ":1: # platform: 'noarch' is not a conda platform"),
])
def test_bad_input_is_one_line_error(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    assert error(path) == str(path) + message


def test_truncated_and_binary(tmp_path: Path) -> None:
    text = ASSET.read_text(encoding="utf-8")
    truncated = write(tmp_path, text[: text.index("numpy-1.26.4") + len("numpy-1.26")])
    assert error(truncated) == (f"{truncated}:10: not a conda package URL (<channel>/<subdir>/<name>-<version>-<build>"
                                f".conda or .tar.bz2): '{FORGE}/linux-64/numpy-1.26'")
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"@EXPLICIT\n\x89PNG\r\n\x1a\n\x00\x00")
    assert error(binary) == f"{binary}:2: not valid UTF-8 (invalid start byte: byte 0x89 at offset 10)"


def test_oversized(tmp_path: Path) -> None:
    path = write(tmp_path, f"@EXPLICIT\n{NUMPY_URL}\n")
    with pytest.raises(InputError) as raised:
        CondaExplicitReader(max_bytes=16).read(path, target=None)
    assert str(raised.value) == f"{path}: {path.stat().st_size} bytes, over the limit of 16"


@pytest.mark.parametrize("text", [
    "@EXPLICIT\n",
    "# platform: linux-64\n@EXPLICIT\nhttps://x/linux-64/a-1-0.conda\n",
    "\n\n  # comment\n  @EXPLICIT  \n",
])
def test_detects_explicit_files(tmp_path: Path, text: str) -> None:
    assert READER.detect(write(tmp_path, text))


@pytest.mark.parametrize("text", [
    "",
    "# only comments\n",
    "numpy==1.26.4\n@EXPLICIT\n",
    "dependencies:\n  - numpy\n",
    "# @EXPLICIT\nnumpy\n",
])
def test_does_not_claim_other_files(tmp_path: Path, text: str) -> None:
    assert not READER.detect(write(tmp_path, text))


def test_detection_never_raises(tmp_path: Path) -> None:
    binary = tmp_path / "binary"
    binary.write_bytes(b"@EXPLICIT\n\x00\xff")
    assert not READER.detect(binary)
    assert not READER.detect(tmp_path)
    assert not READER.detect(tmp_path / "absent")


URL_PARTS = st.sampled_from([
    "@EXPLICIT", "# platform: linux-64", "# platform: ", "https://conda.anaconda.org/conda-forge/", "linux-64/",
    "noarch/", "numpy-1.26.4-py311h64a7726_0", ".conda", ".tar.bz2", "#", "md5=", "sha256:",
    "d7c89558ba9fa0495403155b64376d81",
    "file:///", "https://[", "]", "\n", " ", "\t", "-", "_", "/", "?", "%", "\uff03", "\x00", "é", "@", "::",
])


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(URL_PARTS, max_size=24).map("".join))
def test_any_text_gives_packages_or_one_line_error(text: str) -> None:
    """Whatever the file holds, detection answers and reading gives packages or an InputError whose
    message is one line: never another exception (exit 70)."""
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "spec-file.txt"
        path.write_text(text, encoding="utf-8")
        assert CondaExplicitReader().detect(path) in (True, False)
        try:
            CondaExplicitReader().read(path, target=None)
        except InputError as raised:
            assert "\n" not in str(raised)
