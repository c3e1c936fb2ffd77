"""conda environment.yml: match specs, the pip section, YAML errors and detection."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gate.errors import InputError
from gate.model import Location, SourceKind, Target
from gate.sources.conda_environment import CondaEnvironmentReader, CondaSpec, parse_conda_spec
from gate.sources.lockfile import compose_yaml
from tests.conftest import ASSETS

ASSET = ASSETS / "lockfiles" / "conda-environment" / "environment.yml"
READER = CondaEnvironmentReader()

Row = tuple[str, str, str | None, str | None, str | None, str, str | None, str | None, str | None, int | None]


def rows(path: Path) -> list[Row]:
    return [(p.ecosystem, p.name, p.version, p.specifier, p.pypi_name, p.source.kind.value, p.source.url,
             p.source.commit, p.marker, p.location.line if p.location else None)
            for p in READER.read(path, target=None).packages]


def write(tmp_path: Path, text: str, name: str = "environment.yml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error(path: Path) -> str:
    with pytest.raises(InputError) as raised:
        READER.read(path, target=None)
    return str(raised.value)


LINUX = 'sys_platform == "linux" and platform_machine == "x86_64"'
REQUESTS_SHA256 = "70761cfe03c773ceb22aa2f671b4757976145175cdfca038c02654d061d6dcc6"


def test_asset_exactly() -> None:
    environment = READER.read(ASSET, target=None)
    assert environment.kind == "conda-environment"
    assert environment.source == str(ASSET)
    assert environment.target == Target()
    assert rows(ASSET) == [
        ("conda", "cudatoolkit", None, "=11.8", None, "channel", "conda-forge", None, None, 11),
        ("conda", "exiv2", "0.28.2", None, None, "channel", "conda-forge", None, None, 16),
        ("conda", "libgcc-ng", "13.2.0", None, None, "channel", "conda-forge", None, LINUX, 13),
        ("conda", "matplotlib-base", None, ">=3.8", "matplotlib", "channel", "conda-forge", None, None, 17),
        ("conda", "numpy", "1.26.4", None, "numpy", "channel", "conda-forge", None, None, 8),
        ("conda", "pandas", None, ">=2.0,<3", "pandas", "channel", "conda-forge", None, None, 12),
        ("conda", "pip", None, "", "pip", "channel", "conda-forge", None, None, 18),
        ("conda", "python", None, "=3.11", None, "channel", "conda-forge", None, None, 7),
        ("conda", "pytorch", "2.1.0", None, "torch", "channel", "pytorch", None, None, 10),
        ("conda", "pyyaml", "6.0.1", None, "pyyaml", "channel", "conda-forge", None, None, 15),
        ("conda", "scikit-learn", None, "", "scikit-learn", "channel", "conda-forge", None, None, 14),
        ("conda", "scipy", "1.11.4", None, "scipy", "channel", "conda-forge", None, None, 9),
        # --extra-index-url: pip may take any of them from either index, so the index is unknown
        ("pypi", "einops", None, "~=0.7.0", "einops", "index", None, None, None, 22),
        ("pypi", "example-tool", None, "", "example-tool", "editable", "git+https://github.com/example/tool.git",
         "v1.2", None, 23),
        ("pypi", "torchmetrics", "1.2.0", None, "torchmetrics", "index", None, None, None, 21),
    ]
    assert environment.notes == (
        "2 conda specs without a build string not known to be PyPI projects, so not matched against PyPI "
        "advisories: cudatoolkit, python",)
    assert all(p.group == "runtime" and p.requires == () for p in environment.packages)


@pytest.mark.parametrize(("text", "expected"), [
    ("numpy", CondaSpec(name="numpy", version=None, specifier="", build=None, channel=None, subdir=None, hashes=())),
    ("numpy=1.21", CondaSpec(name="numpy", version=None, specifier="=1.21", build=None, channel=None, subdir=None,
                             hashes=())),
    ("numpy=1.21.*", CondaSpec(name="numpy", version=None, specifier="=1.21.*", build=None, channel=None,
                               subdir=None, hashes=())),
    ("numpy==1.21.5", CondaSpec(name="numpy", version="1.21.5", specifier="==1.21.5", build=None, channel=None,
                                subdir=None, hashes=())),
    ("numpy==1.21.*", CondaSpec(name="numpy", version=None, specifier="==1.21.*", build=None, channel=None,
                                subdir=None, hashes=())),
    ("numpy 1.21.5", CondaSpec(name="numpy", version="1.21.5", specifier="1.21.5", build=None, channel=None,
                               subdir=None, hashes=())),
    ("numpy =1.21", CondaSpec(name="numpy", version=None, specifier="=1.21", build=None, channel=None, subdir=None,
                              hashes=())),
    ("numpy 1.21.5 py39h1234567_0", CondaSpec(name="numpy", version="1.21.5", specifier="1.21.5 py39h1234567_0",
                                              build="py39h1234567_0", channel=None, subdir=None, hashes=())),
    ("numpy=1.21.5=py39h1234567_0", CondaSpec(name="numpy", version="1.21.5", specifier="=1.21.5=py39h1234567_0",
                                              build="py39h1234567_0", channel=None, subdir=None, hashes=())),
    ("foo=1.0=*", CondaSpec(name="foo", version="1.0", specifier="=1.0=*", build="*", channel=None, subdir=None,
                            hashes=())),
    ("jpeg=9e=h7f8727e_0", CondaSpec(name="jpeg", version="9e", specifier="=9e=h7f8727e_0", build="h7f8727e_0",
                                     channel=None, subdir=None, hashes=())),
    ("numpy>=1.20,<2", CondaSpec(name="numpy", version=None, specifier=">=1.20,<2", build=None, channel=None,
                                 subdir=None, hashes=())),
    ("numpy >=1.20", CondaSpec(name="numpy", version=None, specifier=">=1.20", build=None, channel=None, subdir=None,
                               hashes=())),
    ("numpy 1.20|1.21", CondaSpec(name="numpy", version=None, specifier="1.20|1.21", build=None, channel=None,
                                  subdir=None, hashes=())),
    ("jupyterhub-singleuser~=5.0", CondaSpec(name="jupyterhub-singleuser", version=None, specifier="~=5.0",
                                             build=None, channel=None, subdir=None, hashes=())),
    ("numpy!=1.20", CondaSpec(name="numpy", version=None, specifier="!=1.20", build=None, channel=None, subdir=None,
                              hashes=())),
    ("conda-forge::numpy=1.21", CondaSpec(name="numpy", version=None, specifier="=1.21", build=None,
                                          channel="conda-forge", subdir=None, hashes=())),
    ("pytorch::pytorch", CondaSpec(name="pytorch", version=None, specifier="", build=None, channel="pytorch",
                                   subdir=None, hashes=())),
    ("conda-forge/linux-64::numpy==1.26.4", CondaSpec(name="numpy", version="1.26.4", specifier="==1.26.4",
                                                      build=None, channel="conda-forge", subdir="linux-64",
                                                      hashes=())),
    ("https://conda.anaconda.org/conda-forge::numpy", CondaSpec(
        name="numpy", version=None, specifier="", build=None, channel="https://conda.anaconda.org/conda-forge",
        subdir=None, hashes=())),
    ("numpy[version='>=1.20']", CondaSpec(name="numpy", version=None, specifier=">=1.20", build=None, channel=None,
                                          subdir=None, hashes=())),
    ("numpy[version=1.26.4, build=py311*, channel=conda-forge, subdir=osx-arm64]", CondaSpec(
        name="numpy", version="1.26.4", specifier="1.26.4", build="py311*", channel="conda-forge",
        subdir="osx-arm64", hashes=())),
    ('numpy[md5="D7C89558BA9FA0495403155B64376D81"]', CondaSpec(
        name="numpy", version=None, specifier="", build=None, channel=None, subdir=None,
        hashes=(("md5", "d7c89558ba9fa0495403155b64376d81"),))),
])
def test_conda_specs(text: str, expected: CondaSpec) -> None:
    assert parse_conda_spec(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("numpy[version='>=1.20'", "cannot parse the conda spec \"numpy[version='>=1.20'\" (unbalanced brackets)"),
    ("numpy[license=MIT]", "conda spec key 'license' is not supported (supported: version, build, channel, subdir, "
                           "md5, sha256)"),
    ("numpy[version]", "cannot parse the bracket part [version] of a conda spec"),
    ("numpy[md5=abc]", "md5='abc' in 'numpy[md5=abc]' is not a md5 hex digest"),
    ("numpy[subdir=linux-65]", "'linux-65' in 'numpy[subdir=linux-65]' is not a conda platform"),
    ("::numpy", "cannot parse the conda spec '::numpy' (empty channel before '::')"),
    ("*", "cannot parse the conda spec '*' (no package name)"),
    ("numpy=", "cannot parse the conda spec 'numpy=' (no version after '=')"),
    ("numpy 1.0 py39_0 extra", "cannot parse the conda spec 'numpy 1.0 py39_0 extra' (more than a version and a "
                               "build)"),
    ("numpy@1.0", "cannot parse the conda spec 'numpy@1.0' (unexpected '@' after the name)"),
])
def test_bad_conda_specs(text: str, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_conda_spec(text)
    assert str(raised.value) == message


def test_channels_and_prefixes(tmp_path: Path) -> None:
    path = write(tmp_path, "channels: [nodefaults, pytorch, conda-forge]\n"
                           "dependencies:\n  - conda-forge::numpy\n  - pytorch\n")
    assert [(p.name, p.source.url) for p in READER.read(path, target=None).packages] == [
        ("numpy", "conda-forge"), ("pytorch", "pytorch")]
    no_channels = write(tmp_path, "dependencies: [numpy]\n", "plain.yml")
    assert READER.read(no_channels, target=None).packages[0].source.url is None  # conda's configured defaults


def test_a_build_string_is_python_evidence(tmp_path: Path) -> None:
    path = write(tmp_path, "dependencies:\n  - rare-tool=1.0=py311h1234567_0\n  - rare-lib=1.0=h1234567_0\n"
                           "  - other-lib=1.0\n")
    environment = READER.read(path, target=None)
    assert [(p.name, p.pypi_name) for p in environment.packages] == [
        ("other-lib", None), ("rare-lib", None), ("rare-tool", "rare-tool")]
    assert environment.notes == ("1 conda spec without a build string not known to be PyPI projects, so not matched "
                                 "against PyPI advisories: other-lib",)


def test_an_untargeted_subdir_is_noted(tmp_path: Path) -> None:
    path = write(tmp_path, "dependencies:\n  - conda-forge/linux-ppc64le::numpy==1.26.4\n")
    environment = READER.read(path, target=None)
    assert environment.packages[0].marker is None
    assert environment.notes == ("conda platform linux-ppc64le: the gate has no target for it, so its packages carry "
                                 "no platform marker and are judged for every target",)


def test_pip_section_is_read_as_a_requirements_file(tmp_path: Path) -> None:
    (tmp_path / "requirements-extra.txt").write_text("rich==13.7.0\n", encoding="utf-8")
    (tmp_path / "local").mkdir()
    (tmp_path / "local" / "pyproject.toml").write_text('[project]\nname = "Local_Thing"\n', encoding="utf-8")
    path = write(tmp_path, "dependencies:\n  - pip:\n"
                           "    - --index-url https://mirror.example/simple\n"
                           f"    - requests==2.32.3 --hash=sha256:{REQUESTS_SHA256}\n"
                           "    - 'urllib3>=2 ; python_version >= \"3.8\"'\n"
                           "    - -r requirements-extra.txt\n"
                           "    - -e ./local\n"
                           "    - -e .\n")
    packages = {p.name: p for p in READER.read(path, target=None).packages}
    assert sorted(packages) == [".", "local-thing", "requests", "rich", "urllib3"]
    requests = packages["requests"]
    assert (requests.version, requests.source.kind, requests.source.url) == (
        "2.32.3", SourceKind.INDEX, "https://mirror.example/simple")
    assert requests.hashes == (("sha256", REQUESTS_SHA256),)
    assert packages["urllib3"].marker == 'python_version >= "3.8"'
    assert packages["rich"].location == Location(file=str(tmp_path / "requirements-extra.txt"), line=1)
    assert (packages["local-thing"].source.kind, packages["local-thing"].pypi_name) == (SourceKind.EDITABLE,
                                                                                         "local-thing")
    # the project itself, nameless: kept as written, never matched against advisories
    assert (packages["."].source.kind, packages["."].pypi_name) == (SourceKind.EDITABLE, None)


@pytest.mark.parametrize(("text", "message"), [
    ("dependencies: numpy\n", ":1: dependencies: expected a list, got a string"),
    ("dependencies:\n  - {conda: numpy}\n", ":2: dependencies[0]: unexpected mapping 'conda' among the dependencies "
                                            "(only 'pip:' is one)"),
    ("dependencies:\n  - pip: numpy\n", ":2: dependencies[0].pip: expected a list, got a string"),
    # found by benchmarks/fuzz_inputs.py: an empty mapping raised KeyError (exit 70)
    ("dependencies:\n  - python=3.11\n  - {}\n", ":3: dependencies[1].pip: missing"),
    ('dependencies:\n  - pip:\n    - "-r a\\0b.txt"\n', ":3: -r 'a\\x00b.txt': a path with a NUL character"),
    ("dependencies:\n  - pip:\n    - [numpy]\n", ":3: dependencies[0].pip[0]: expected a string, got a list"),
    ("dependencies:\n  - pip:\n    - --frobnicate\n", ":3: unknown option --frobnicate (not one pip accepts in a "
                                                       "requirements file)"),
    ("dependencies:\n  - pip:\n    - -r missing.txt\n", ":3: included file {dir}/missing.txt does not exist"),
    ("dependencies:\n  -\n", ":2: dependencies[0]: expected a string, got nothing (null)"),
    ("dependencies:\n  - true\n", ":2: dependencies[0]: expected a string, got true or false"),
    ("dependencies:\n  - numpy[license=MIT]\n", ":2: dependencies[0]: conda spec key 'license' is not supported "
                                               "(supported: version, build, channel, subdir, md5, sha256)"),
    ("dependencies:\n  - 'conda-forge::'\n", ":2: dependencies[0]: cannot parse the conda spec 'conda-forge::' (no "
                                             "package name)"),
    ("- numpy\n", ":1: expected a mapping with 'dependencies' (an environment.yml), got a list"),
    ("name: x\nchannels: [conda-forge]\n", ":1: dependencies: missing"),
    ("channels: conda-forge\ndependencies: []\n", ":1: channels: expected a list, got a string"),
    ("dependencies: []\ndependencies: []\n", ":2: dependencies: duplicate key"),
    ("base: &base {a: 1}\ndependencies:\n  - <<: *base\n", ":3: dependencies[0]: YAML merge keys (<<) are not "
                                                          "supported"),
    ("dependencies:\n  - numpy\n  - [scipy\n", ":4: not valid YAML (while parsing a flow sequence: did not find "
                                          "expected ',' or ']')"),
    ("dependencies:\n  - numpy\n---\ndependencies: []\n", ":3: not valid YAML (expected a single document in the "
                                                          "stream: but found another document)"),
    ("", ": empty (no YAML document)"),
    ("dependencies: [\x07]\n", ":1: not valid YAML (unacceptable character #x0007: control characters are "
                                 "not allowed)"),
])
def test_bad_input_is_one_line_error(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    assert error(path) == str(path) + message.replace("{dir}", str(tmp_path))


def test_truncated_and_binary(tmp_path: Path) -> None:
    truncated = write(tmp_path, ASSET.read_text(encoding="utf-8")[:120] + "\n  - 'sci")
    assert error(truncated) == (f"{truncated}:6: not valid YAML (while scanning a quoted scalar: found unexpected end "
                                "of stream)")
    binary = tmp_path / "binary.yml"
    binary.write_bytes(b"dependencies:\n  - numpy\n\xff\xfe\x00\x01")
    assert error(binary) == f"{binary}:3: not valid UTF-8 (invalid start byte: byte 0xff at offset 24)"


def test_a_yaml_bomb_is_refused(tmp_path: Path) -> None:
    """Billion laughs: nine levels of nine aliases, 9^9 nodes once expanded."""
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, 10):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 9) + "]")
    path = write(tmp_path, "\n".join(lines) + "\ndependencies: *a9\n")
    assert error(path) == f"{path}:1: more than 5000000 YAML nodes once aliases are expanded (a YAML bomb?)"


def test_an_alias_to_its_own_ancestor_is_bounded(tmp_path: Path) -> None:
    path = write(tmp_path, "dependencies: &loop [numpy, *loop]\n")
    with pytest.raises(InputError) as raised:
        compose_yaml(path, limit=1024, max_nodes=1000)
    assert str(raised.value) == f"{path}:1: more than 1000 YAML nodes once aliases are expanded (a YAML bomb?)"


def test_oversized_and_missing(tmp_path: Path) -> None:
    path = write(tmp_path, "dependencies: [numpy]\n" + "#" * 100 + "\n")
    with pytest.raises(InputError) as raised:
        CondaEnvironmentReader(max_bytes=64).read(path, target=None)
    assert str(raised.value) == f"{path}: 123 bytes, over the limit of 64"
    assert error(tmp_path / "absent.yml") == f"{tmp_path / 'absent.yml'}: no such file"


@pytest.mark.parametrize("text", [
    "name: x\nchannels:\n  - conda-forge\ndependencies:\n  - numpy\n",
    "dependencies:\n\n  # the conda part\n  - python=3.11\n",
    "dependencies:\n- pip:\n  - requests\n",
    "dependencies: [numpy, scipy]\n",
    "dependencies:\n  - conda-forge::numpy\n",
    "dependencies:",
])
def test_detects_environment_files(tmp_path: Path, text: str) -> None:
    assert READER.detect(write(tmp_path, text))


@pytest.mark.parametrize("text", [
    # a Helm chart: dependencies are name/version mappings
    "apiVersion: v2\nname: web\ndependencies:\n  - name: redis\n    version: 17.0.0\n",
    # conda-lock
    "version: 1\nmetadata:\n  platforms: [linux-64]\npackage:\n- name: x\ndependencies:\n  - y\n",
    "# platform: linux-64\n@EXPLICIT\n",
    '{"dependencies": ["numpy"]}\n',
    "requirements:\n  - numpy\n",
    "  dependencies:\n  - numpy\n",
    "",
])
def test_does_not_claim_other_files(tmp_path: Path, text: str) -> None:
    assert not READER.detect(write(tmp_path, text))


def test_detection_never_raises(tmp_path: Path) -> None:
    binary = tmp_path / "binary"
    binary.write_bytes(b"dependencies:\n  - numpy\n\x00\xff")
    assert not READER.detect(binary)
    assert not READER.detect(tmp_path)
    assert not READER.detect(tmp_path / "absent")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert not READER.detect(fifo)
    assert READER.detect(ASSET)


SPEC_PARTS = st.sampled_from([
    "numpy", "conda-forge::", "pytorch/linux-64::", "=", "==", ">=", "<", "!=", "~=", "1.26", "1.*", " ", "*",
    "py311_0", "[", "]", "version=", "build=", "channel=", "subdir=", "md5=", "sha256=", "'", '"', ",", "|",
    "a" * 64, "@", "#", "\t", "é", "\x00", "::", "/", "_", "-", ".",
])


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(SPEC_PARTS, max_size=12).map("".join))
def test_any_spec_text_parses_or_is_a_value_error(text: str) -> None:
    """The reader turns parse_conda_spec's ValueError into a located InputError; anything else it
    raised would be a crash (exit 70). A parsed spec has a conda name."""
    try:
        spec = parse_conda_spec(text)
    except ValueError as raised:
        assert "\n" not in str(raised).replace(repr(text), "")
        return
    assert re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*", spec.name)
