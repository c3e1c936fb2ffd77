"""The requirements-file reader on the project's hand-written asset and on small files made here."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gate.errors import InputError
from gate.model import Location, Package, Source, SourceKind, Target
from gate.sources import requirements as requirements_module
from gate.sources.requirements import RequirementsReader
from tests.conftest import ASSETS

ASSET = ASSETS / "lockfiles" / "requirements" / "requirements.txt"
PYPI = Source(kind=SourceKind.INDEX, url="https://pypi.org/simple")
A64, B64, C64, D64 = ("a" * 64, "b" * 64, "c" * 64, "d" * 64)


def read(path: Path) -> list[Package]:
    return list(RequirementsReader().read(path, target=None).packages)


def write(tmp_path: Path, text: str, name: str = "requirements.txt") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def one(tmp_path: Path, line: str) -> Package:
    packages = read(write(tmp_path, line + "\n"))
    assert len(packages) == 1
    return packages[0]


def error(path: Path) -> str:
    with pytest.raises(InputError) as raised:
        RequirementsReader().read(path, target=None)
    return str(raised.value)


# --- the shipped asset: every shape once ---------------------------------------------------------


def test_asset_exactly() -> None:
    environment = RequirementsReader().read(ASSET, target=None)
    assert environment.kind == "requirements"
    assert environment.source == str(ASSET)
    assert environment.target == Target()
    file = str(ASSET)

    def at(line: int, of: str = file) -> Location:
        return Location(file=of, line=line)

    assert list(environment.packages) == [
        Package(name="accelerate", version=None, specifier="==1.13.*", pypi_name="accelerate", source=PYPI,
                location=at(16)),
        Package(name="attrs", version="25.3.0", pypi_name="attrs", source=PYPI,
                hashes=(("sha256", A64), ("sha256", B64)), location=at(7)),
        Package(name="model", version="3.8.0+cpu", pypi_name="model", specifier=None,
                source=Source(kind=SourceKind.URL, url="https://github.com/example/model/releases/download/v3.8.0/"
                                                        "model-3.8.0+cpu-py3-none-any.whl"),
                marker='sys_platform == "linux"', location=at(20)),
        Package(name="numpy", version="1.26.4", pypi_name="numpy", source=PYPI, hashes=(("sha256", C64),),
                marker='python_full_version < "3.11"', location=at(11)),
        Package(name="numpy", version="2.2.6", pypi_name="numpy", source=PYPI, hashes=(("sha256", D64),),
                marker='python_full_version >= "3.11"', location=at(13)),
        Package(name="other-tool", version=None, specifier="", pypi_name="other-tool",
                source=Source(kind=SourceKind.VCS, url="git+https://github.com/example/other.git",
                              commit="0123456789abcdef0123456789abcdef01234567"), location=at(19)),
        Package(name="requests", version=None, specifier=">=2.32", pypi_name="requests", source=PYPI,
                location=at(15)),
        Package(name="six", version="1.17.0", pypi_name="six", source=PYPI,
                location=at(2, str(ASSET.parent / "base.txt"))),
        Package(name="tool", version=None, specifier="", pypi_name="tool",
                source=Source(kind=SourceKind.VCS, url="git+https://github.com/example/tool.git", commit="v1.2"),
                location=at(18)),
        Package(name="torch", version="2.7.0+cu128", pypi_name="torch", source=PYPI, location=at(17)),
        # -e ./vendor/vendored: named by its pyproject.toml ("Vendored_Lib"), found beside the file
        Package(name="vendored-lib", version=None, specifier="", pypi_name="vendored-lib",
                source=Source(kind=SourceKind.EDITABLE, url="./vendor/vendored"), location=at(21)),
    ]
    assert all(p.group == "runtime" and p.requires == () for p in environment.packages)
    # constraints.txt (urllib3<3) constrains but installs nothing
    assert "urllib3" not in {p.name for p in environment.packages}
    assert environment.notes == (
        f"Constraints files ({ASSET.parent / 'constraints.txt'}) were checked but are not packages: a requirement "
        "they pin but the requirements do not is reported as unpinned.",)


def test_detects_the_asset_and_its_includes() -> None:
    reader = RequirementsReader()
    assert reader.detect(ASSET)
    assert reader.detect(ASSET.parent / "base.txt")


# --- pins and specifiers -------------------------------------------------------------------------


@pytest.mark.parametrize(("line", "version", "specifier"), [
    ("Foo_Bar==1.0.0.post01", "1.0.0.post01", None),  # as written, not normalised
    ("foo===1.0-weird", "1.0-weird", None),
    ("foo==1.13.*", None, "==1.13.*"),
    ("foo>=1.2", None, ">=1.2"),
    ("foo~=1.2", None, "~=1.2"),
    ("foo", None, ""),
    ("foo[bar,baz]", None, ""),
    ("foo>=2,<2.3.0", None, "<2.3.0,>=2"),
    ("foo==1.0,!=1.1", None, "!=1.1,==1.0"),
])
def test_only_an_exact_pin_gives_a_version(tmp_path: Path, line: str, version: str | None,
                                           specifier: str | None) -> None:
    package = one(tmp_path, line)
    assert (package.version, package.specifier) == (version, specifier)
    assert package.name in ("foo", "foo-bar")
    assert package.source == Source(kind=SourceKind.INDEX)


def test_markers_are_normalised_and_pip_splits_them_off_first(tmp_path: Path) -> None:
    assert one(tmp_path, "foo==1.0;python_version<'3.12'").marker == 'python_version < "3.12"'
    assert one(tmp_path, "foo @ https://example.org/foo-1.0-py3-none-any.whl; os_name == 'nt'").marker == (
        'os_name == "nt"')


# --- continuations and comments ------------------------------------------------------------------


def test_continuations_comments_and_fragments(tmp_path: Path) -> None:
    path = write(tmp_path, (
        "# header\n"
        "\n"
        "alpha==1.0 \\\n"
        f"    --hash=sha256:{A64} \\\n"
        f"    --hash sha256:{B64}\n"
        "    # via beta\n"
        "beta==2.0 \\\n"
        "    # a comment line ends a continuation, as in pip\n"
        "gamma==3.0   # trailing comment\n"
        "https://example.org/delta-4.0-py3-none-any.whl#sha256=" + C64 + "\n"
    ))
    packages = read(path)
    assert [(p.name, p.version, p.location.line if p.location else None) for p in packages] == [
        ("alpha", "1.0", 3), ("beta", "2.0", 7), ("delta", "4.0", 10), ("gamma", "3.0", 9)]
    assert packages[0].hashes == (("sha256", A64), ("sha256", B64))
    assert packages[2].source.url == "https://example.org/delta-4.0-py3-none-any.whl"


def test_crlf_line_ends_and_a_bom(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_bytes(b"\xef\xbb\xbfalpha==1.0 \\\r\n    --hash=sha256:" + A64.encode() + b"\r\nbeta==2\r\n")
    assert [(p.name, p.version, p.hashes) for p in read(path)] == [
        ("alpha", "1.0", (("sha256", A64),)), ("beta", "2", ())]


def test_an_open_continuation_at_the_end_is_a_truncated_file(tmp_path: Path) -> None:
    path = write(tmp_path, f"alpha==1.0\nbeta==2.0 \\\n    --hash=sha256:{A64} \\\n")
    assert error(path) == f"{path}:2: the line continues (ends with \\) but the file ends"


# --- sources -------------------------------------------------------------------------------------


def test_vcs_requirements(tmp_path: Path) -> None:
    named = one(tmp_path, "tool @ git+https://github.com/example/tool.git@abc123")
    assert (named.name, named.version, named.specifier) == ("tool", None, "")
    assert named.source == Source(kind=SourceKind.VCS, url="git+https://github.com/example/tool.git", commit="abc123")
    user = one(tmp_path, "git+ssh://git@github.com/example/tool.git#egg=tool")  # the @ is a user name, no revision
    assert user.source == Source(kind=SourceKind.VCS, url="git+ssh://git@github.com/example/tool.git")
    scp = one(tmp_path, "-e git+git@github.com:example/tool.git@77b9011#egg=tool")
    assert scp.source == Source(kind=SourceKind.EDITABLE, url="git+git@github.com:example/tool.git", commit="77b9011")
    assert scp.name == "tool"


def test_a_url_or_path_without_a_name_keeps_it_as_written_and_is_never_matched(tmp_path: Path) -> None:
    bare = one(tmp_path, "git+https://github.com/example/tool.git")
    assert bare.name == "git+https://github.com/example/tool.git"
    assert bare.pypi_name is None
    assert (bare.version, bare.specifier) == (None, "")
    local = one(tmp_path, "-e .")  # no pyproject.toml in tmp_path
    assert (local.name, local.pypi_name) == (".", None)
    assert local.source == Source(kind=SourceKind.EDITABLE, url=".")


def test_local_projects_are_named_by_their_pyproject(tmp_path: Path) -> None:
    (tmp_path / "libs" / "mylib").mkdir(parents=True)
    (tmp_path / "libs" / "mylib" / "pyproject.toml").write_text('[project]\nname = "My.Lib"\n', encoding="utf-8")
    lib = one(tmp_path, "./libs/mylib[extra]")
    assert (lib.name, lib.pypi_name, lib.version, lib.specifier) == ("my-lib", "my-lib", None, "")
    assert lib.source == Source(kind=SourceKind.PATH, url="./libs/mylib")
    url = one(tmp_path, f"file://{tmp_path}/libs/mylib")
    assert url.name == "my-lib"
    assert url.source == Source(kind=SourceKind.PATH, url=f"file://{tmp_path}/libs/mylib")
    (tmp_path / "libs" / "mylib" / "pyproject.toml").write_text("[project\n", encoding="utf-8")
    assert error(write(tmp_path, "./libs/mylib\n")) == (
        f"{tmp_path}/./libs/mylib/pyproject.toml: not valid TOML (Expected ']' at the end of a table declaration "
        "(at line 1, column 9))")
    # found by benchmarks/fuzz_inputs.py: tomllib's int() raised a bare ValueError (exit 70)
    (tmp_path / "libs" / "mylib" / "pyproject.toml").write_text("[project]\nx = " + "1" * 5000, encoding="utf-8")
    assert error(write(tmp_path, "./libs/mylib\n")) == (
        f"{tmp_path}/./libs/mylib/pyproject.toml:2: not valid TOML (a number of more than 4300 digits)")


def test_archives(tmp_path: Path) -> None:
    wheel = one(tmp_path, "./dist/pkg_name-1.0-py3-none-any.whl")
    assert (wheel.name, wheel.version, wheel.pypi_name) == ("pkg-name", "1.0", "pkg-name")
    assert wheel.source == Source(kind=SourceKind.PATH, url="./dist/pkg_name-1.0-py3-none-any.whl")
    sdist = one(tmp_path, "https://example.org/pkg-1.0.tar.gz#egg=pkg")
    assert (sdist.name, sdist.version, sdist.specifier) == ("pkg", None, "")  # only building it would tell
    assert sdist.source == Source(kind=SourceKind.URL, url="https://example.org/pkg-1.0.tar.gz")
    plain = one(tmp_path, "pkg-2.0-py3-none-any.whl")  # a file name, as pip reads it
    assert (plain.name, plain.version, plain.source.kind) == ("pkg", "2.0", SourceKind.PATH)


def test_index_url_is_known_only_when_it_is_the_one_place(tmp_path: Path) -> None:
    def sources(text: str) -> set[Source]:
        return {p.source for p in read(write(tmp_path, text))}

    assert sources("alpha==1\n") == {Source(kind=SourceKind.INDEX)}  # pip's configuration decides
    assert sources("-i https://mirror.example/simple\nalpha==1\n") == {
        Source(kind=SourceKind.INDEX, url="https://mirror.example/simple")}
    assert sources("--index-url=https://mirror.example/simple\nalpha==1\n") == {
        Source(kind=SourceKind.INDEX, url="https://mirror.example/simple")}
    for extra in ("--extra-index-url https://download.pytorch.org/whl/cu128", "--find-links ./wheels",
                  "--no-index", "-i https://other.example/simple"):
        assert sources(f"-i https://mirror.example/simple\n{extra}\nalpha==1\n") == {Source(kind=SourceKind.INDEX)}


def test_notes_say_what_the_file_leaves_open(tmp_path: Path) -> None:
    def notes(text: str) -> tuple[str, ...]:
        return RequirementsReader().read(write(tmp_path, text), target=None).notes

    assert notes("-i https://mirror.example/simple\nalpha==1\n") == ()
    assert notes("alpha==1\n") == ()  # pip's own configuration: nothing the file could have said
    assert notes("-i https://a.example/simple\n--extra-index-url https://b.example/simple\nalpha==1\n") == (
        "The requirements name --index-url https://a.example/simple, --extra-index-url https://b.example/simple: "
        "which of these served each package is not recorded, so the packages' index URL is left unknown.",)
    assert notes("--no-index\n--find-links ./wheels\nalpha==1\n") == (
        "The requirements name --find-links ./wheels: which of these served each package is not recorded, so the "
        "packages' index URL is left unknown.",)
    assert notes("-e .\ngit+https://example.org/a.git\n./b\n./c\n") == (
        "4 requirement(s) name no project (., git+https://example.org/a.git, ./b, ...): listed under the URL or "
        "path, and not matched against advisories.",)


def test_harmless_options_are_accepted(tmp_path: Path) -> None:
    path = write(tmp_path, (
        "--pre\n--prefer-binary\n--only-binary=:all:\n--no-binary :none:\n--require-hashes\n"
        "--trusted-host mirror.example\n--use-feature=truststore\n"
        f"alpha==1.0 --config-settings=key=value --global-option=--quiet --hash=sha256:{A64}\n"
        "-C key=value beta==2\n"
    ))
    assert error(path) == f"{path}:9: unexpected 'beta==2' among the options"  # options come after it
    path.write_text(path.read_text().replace("-C key=value beta==2\n", "beta==2 -C key=value\n"))
    assert [(p.name, p.version) for p in read(path)] == [("alpha", "1.0"), ("beta", "2")]


# --- includes ------------------------------------------------------------------------------------


def test_includes_are_relative_to_the_including_file_and_read_once(tmp_path: Path) -> None:
    write(tmp_path, "-r common.txt\nalpha==1\n", "reqs/a.txt")
    write(tmp_path, "-r common.txt\nbeta==2\n", "reqs/b.txt")
    write(tmp_path, "gamma==3\n", "reqs/common.txt")
    top = write(tmp_path, "-r reqs/a.txt\n--requirement=reqs/b.txt\n-c reqs/common.txt\n")
    packages = read(top)
    assert [(p.name, p.location) for p in packages] == [
        ("alpha", Location(file=f"{tmp_path}/reqs/a.txt", line=2)),
        ("beta", Location(file=f"{tmp_path}/reqs/b.txt", line=2)),
        ("gamma", Location(file=f"{tmp_path}/reqs/common.txt", line=1)),
    ]


def test_a_constraints_file_installs_nothing_but_is_still_checked(tmp_path: Path) -> None:
    write(tmp_path, "# pins\nalpha==1.0\nbeta>=2\n", "constraints.txt")
    assert [(p.name, p.version, p.specifier) for p in read(write(tmp_path, "-c constraints.txt\nalpha\n"))] == [
        ("alpha", None, "")]  # the constraint's pin is not merged: unpinned stays unpinned
    write(tmp_path, "alpha==1.0\n??\n", "constraints.txt")
    assert error(write(tmp_path, "-c constraints.txt\nalpha\n")) == (
        f"{tmp_path}/constraints.txt:2: not a requirement or an option: '??' (Expected package name at the start "
        "of dependency specifier)")


def test_an_include_loop_is_an_error_at_the_include(tmp_path: Path) -> None:
    write(tmp_path, "alpha==1\n-r b.txt\n", "a.txt")
    write(tmp_path, "# b\n-r ./a.txt\n", "b.txt")
    assert error(tmp_path / "a.txt") == f"{tmp_path}/b.txt:2: -r ./a.txt: include loop ({tmp_path}/a.txt -> " \
        f"{tmp_path}/b.txt -> {tmp_path}/a.txt)"
    itself = write(tmp_path, "-c self.txt\n", "self.txt")
    assert error(itself) == f"{itself}:1: -c self.txt: include loop ({itself} -> {itself})"


def test_missing_and_remote_includes(tmp_path: Path) -> None:
    path = write(tmp_path, "alpha==1\n-r missing.txt\n")
    assert error(path) == f"{path}:2: included file {tmp_path}/missing.txt does not exist"
    path = write(tmp_path, "-r https://example.org/requirements.txt\n")
    assert error(path) == (f"{path}:1: -r https://example.org/requirements.txt: includes from a URL are not read "
                           "(the gate works offline; download the file and pass it)")


def test_includes_nested_too_deep(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(requirements_module, "MAX_INCLUDE_DEPTH", 3)
    for number in range(5):
        write(tmp_path, f"-r {number + 1}.txt\n", f"{number}.txt")
    write(tmp_path, "alpha==1\n", "5.txt")
    assert error(tmp_path / "0.txt") == f"{tmp_path}/2.txt:1: includes nested more than 3 deep"
    monkeypatch.setattr(requirements_module, "MAX_INCLUDE_DEPTH", 50)
    monkeypatch.setattr(requirements_module, "MAX_FILES", 2)
    write(tmp_path, "-r 1.txt\n-r 2.txt\n-r 3.txt\n", "many.txt")
    for number in (1, 2, 3):
        write(tmp_path, "alpha==1\n", f"{number}.txt")
    assert error(tmp_path / "many.txt") == f"{tmp_path}/many.txt:3: more than 2 files included"


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "message"), [
    ("alpha==1.0\nthis is not a requirement\n",
     "2: not a requirement or an option: 'this is not a requirement' (Expected semicolon (after name with no "
     "version specifier) or end)"),
    ("--install-option=--prefix=/x\n", "1: unknown option --install-option (not one pip accepts in a requirements "
                                       "file)"),
    ("-x\n", "1: unknown option -x (not one pip accepts in a requirements file)"),
    ("alpha==1 --index-url https://x.example/simple\n",
     "1: option --index-url cannot follow a requirement on the same line"),
    ("--hash=sha256:" + A64 + "\n", "1: option --hash without a requirement on its line"),
    ("alpha==1 --hash=md5:0123abcd\n", "1: --hash=md5:0123abcd: algorithm md5 is not one pip accepts "
                                       "(sha256, sha384, sha512)"),
    ("alpha==1 --hash=sha256\n", "1: --hash=sha256: not algorithm:hexdigest"),
    ("alpha==1 --hash=sha256:xyz\n", "1: --hash=sha256:xyz: the digest is not hexadecimal"),
    ("alpha==1 --hash\n", "1: option --hash needs a value"),
    ("--pre=yes\n", "1: option --pre takes no value"),
    ("--index-url 'https://unclosed\n", "1: cannot split the options (No closing quotation)"),
    ("-i https://a.example/simple stray\n", "1: unexpected 'stray' among the options"),
    ("-e . -e ./other\n", "1: more than one -e/--editable on one line"),
    ("alpha==1 ; python_version <<< '3'\n",
     "1: invalid environment marker \"python_version <<< '3'\" (Expected a marker variable or quoted string)"),
    ("https://example.org/not_a-wheel.whl\n",
     "1: not_a-wheel.whl: not a valid wheel file name (Invalid wheel filename (wrong number of parts): "
     "'not_a-wheel')"),
    ("alpha @ https://example.org/beta-1.0-py3-none-any.whl\n",
     "1: alpha @ https://example.org/beta-1.0-py3-none-any.whl: the wheel is for beta"),
    ("git+https://example.org/x.git#egg=not/a/name\n", "1: #egg=not/a/name is not a project name"),
    # found by benchmarks/fuzz_inputs.py: urlsplit raised ValueError (exit 70)
    ("https://[example.org/beta-1.0-py3-none-any.whl\n",
     "1: https://[example.org/beta-1.0-py3-none-any.whl: not a valid URL (Invalid IPv6 URL)"),
    ("beta @ https://[example.org/beta-1.0-py3-none-any.whl\n",
     "1: https://[example.org/beta-1.0-py3-none-any.whl: not a valid URL (Invalid IPv6 URL)"),
    ("-e git+https://[example.org/x.git#egg=x\n", "1: git+https://[example.org/x.git#egg=x: not a valid URL "
                                                 "(Invalid IPv6 URL)"),
    ("-r file://[x/other.txt\n", "1: file://[x/other.txt: not a valid URL (Invalid IPv6 URL)"),
    ("https://example\uff03org/beta-1.0-py3-none-any.whl\n", "1: https://example\uff03org/beta-1.0-py3-none-any.whl: "
     "not a valid URL (netloc 'example\uff03org' contains invalid characters under NFKC normalization)"),
])
def test_bad_lines_are_one_line_errors(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    assert error(path) == f"{path}:{message}"


def test_binary_junk(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_bytes(b"alpha==1\n\x89PNG\r\n\x1a\n\x00\x00")
    assert error(path) == f"{path}:2: not valid UTF-8 (invalid start byte: byte 0x89 at offset 9)"
    assert not RequirementsReader().detect(path)
    path.write_bytes(b"alpha==1\n\n./dir\x00/x\n")
    assert error(path) == f"{path}:3: a NUL character: not a text file"


def test_missing_oversized_and_not_regular(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert error(tmp_path / "absent.txt") == f"{tmp_path}/absent.txt: no such file"
    assert error(tmp_path) == f"{tmp_path}: not a regular file"
    monkeypatch.setattr(requirements_module, "MAX_REQUIREMENTS_BYTES", 10)
    path = write(tmp_path, "alpha==1.0.0\n")
    assert error(path) == f"{path}: 13 bytes, over the limit of 10"


# --- detection -----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "alpha==1.0\n",
    "# compiled\n--index-url https://pypi.org/simple\n\nalpha==1.0 \\\n    --hash=sha256:" + A64 + "\n",
    "-e .\n",
    "git+https://github.com/example/tool.git\n",
    "alpha\nbeta>=2\n",
])
def test_detects_requirements(tmp_path: Path, text: str) -> None:
    assert RequirementsReader().detect(write(tmp_path, text))


@pytest.mark.parametrize("text", [
    "",
    "# only a comment\n\n",
    'lock-version = "1.0"\ncreated-by = "uv"\n\n[[packages]]\nname = "alpha"\n',  # pylock.toml
    'version = 1\nrequires-python = ">=3.11"\n\n[[package]]\nname = "alpha"\n',  # uv.lock
    "# comment\n[[package]]\nname = 'alpha'\n",  # poetry.lock
    '{\n    "_meta": {}\n}\n',  # Pipfile.lock
    "name: demo\nchannels:\n  - conda-forge\n",  # conda environment.yml
    "channels:\n  - conda-forge\ndependencies:\n  - numpy\n",
    "# platform: linux-64\n@EXPLICIT\nhttps://conda.anaconda.org/conda-forge/linux-64/x-1-0.conda\n",
    "version: 1\nmetadata:\n  platforms: [linux-64]\n",  # conda-lock.yml
    "Hello, this is a README.\n",
    "alpha==1.0\n--bogus-option\n",
])
def test_does_not_claim_other_formats_or_prose(tmp_path: Path, text: str) -> None:
    assert not RequirementsReader().detect(write(tmp_path, text))


def test_detection_never_raises(tmp_path: Path) -> None:
    reader = RequirementsReader()
    assert not reader.detect(tmp_path / "absent.txt")
    assert not reader.detect(tmp_path)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert not reader.detect(fifo)  # and does not block on it
    junk = tmp_path / "junk.bin"
    junk.write_bytes(bytes(range(256)) * 10)
    assert not reader.detect(junk)
    large = tmp_path / "large.txt"  # only the first 64 kB are looked at, cut at a line end
    large.write_text("".join(f"package-{n}==1.0.{n}  # é\n" for n in range(20_000)), encoding="utf-8")
    assert large.stat().st_size > 5 * requirements_module.DETECT_BYTES
    assert reader.detect(large)
    continued = tmp_path / "continued.txt"  # a continuation cut by the 64 kB prefix is not an error
    continued.write_text("alpha==1.0 \\\n" + f"    --hash=sha256:{A64} \\\n" * 2000 + f"    --hash=sha256:{B64}\n")
    assert reader.detect(continued)


LINE_PARTS = st.sampled_from([
    "alpha==1.0", "beta>=2", "-e .", "--hash=sha256:" + A64, "\\", "#", " ", "\n", ";", "python_version<'3'",
    "@", "git+https://example.org/x.git@v1#egg=x", "-r", "-c", "x.txt", "--index-url", "https://a.example/simple",
    "[extra]", "'", '"', "\t", "==1.*", "\x00", "\u00e9", "./dir", "pkg-1.0-py3-none-any.whl", "--bogus",
    "https://[", "]", "file://", "\uff03", "%",  # URLs urlsplit refuses (found by benchmarks/fuzz_inputs.py)
])


@settings(max_examples=300, deadline=None)
@given(st.lists(LINE_PARTS, max_size=30).map("".join))
def test_any_text_gives_packages_or_one_line_error(text: str) -> None:
    """Whatever the file holds, detection answers and reading gives packages or an InputError
    whose message is one line: never another exception, never a traceback."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "requirements.txt"
        path.write_text(text, encoding="utf-8")
        assert RequirementsReader().detect(path) in (True, False)
        try:
            RequirementsReader().read(path, target=None)
        except InputError as raised:
            assert "\n" not in str(raised)
