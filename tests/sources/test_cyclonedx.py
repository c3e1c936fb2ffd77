"""CycloneDX JSON SBOMs: purls, components (nested too), hashes, licences, errors, detection."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gate.errors import InputError
from gate.model import LicenseFields, Source, SourceKind, Target
from gate.sources.cyclonedx import CycloneDxReader, Purl, parse_purl
from tests.conftest import ASSETS

ASSET = ASSETS / "lockfiles" / "cyclonedx" / "environment.cdx.json"
READER = CycloneDxReader()
LINUX = 'sys_platform == "linux" and platform_machine == "x86_64"'
COMMIT = "5f0c9e1b2d3a4c5b6e7f8091a2b3c4d5e6f70819"


def bom(*components: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": list(components), **extra}


def write(tmp_path: Path, document: object, *, indent: int | None = 2) -> Path:
    path = tmp_path / "sbom.cdx.json"
    path.write_text(json.dumps(document, indent=indent), encoding="utf-8")
    return path


def error(path: Path) -> str:
    with pytest.raises(InputError) as raised:
        READER.read(path, target=None)
    return str(raised.value)


def test_asset_exactly() -> None:
    """As cyclonedx-py writes an environment: sorted keys, ``bomFormat`` near the end, no purl
    for the package installed from a local path."""
    environment = READER.read(ASSET, target=None)
    assert environment.kind == "cyclonedx"
    assert environment.target == Target()
    assert environment.notes == ("1 SBOM component was not read (not a PyPI or conda package): 1 without a purl",)
    rows = [(p.name, p.version, p.pypi_name, p.source, p.hashes, p.location.line if p.location else None,
             p.requires) for p in environment.packages]
    index = Source(kind=SourceKind.INDEX)
    assert rows == [
        ("certifi", "2024.8.30", "certifi", index, (), 23, ()),
        ("charset-normalizer", "3.4.0", "charset-normalizer", index, (), 38, ()),
        ("idna", "3.10", "idna", index, (), 57, ()),
        ("requests", "2.32.3", "requests", index, (), 72, ("certifi", "charset-normalizer", "idna", "urllib3")),
        ("somelib", "0.3.1", "somelib",
         Source(kind=SourceKind.VCS, url="git+https://github.com/example/somelib.git", commit=COMMIT), (), 107,
         ("requests",)),
        ("tinywheel", "1.0.0", "tinywheel",
         Source(kind=SourceKind.URL, url="https://files.example.com/dist/tinywheel-1.0.0-py3-none-any.whl"),
         (("sha256", "0d2c6c6d2a9f4a3c1e8b7f6a5d4c3b2a19080706f5e4d3c2b1a09f8e7d6c5b4a"),), 135, ()),
        ("urllib3", "2.2.3", "urllib3", index, (), 85, ()),
    ]
    licenses = {p.name: p.license for p in environment.packages}
    assert licenses["requests"] == LicenseFields(expression="Apache-2.0")
    assert licenses["urllib3"] == LicenseFields(expression="MIT")
    assert licenses["idna"] == LicenseFields(text="BSD-3-Clause")
    assert all(p.ecosystem == "pypi" and p.group == "runtime" and p.marker is None for p in environment.packages)


@pytest.mark.parametrize(("text", "expected"), [
    ("pkg:pypi/requests@2.32.3", Purl(type="pypi", namespace=None, name="requests", version="2.32.3",
                                      qualifiers={}, subpath=None)),
    ("pkg:PyPI/Django_Rest@1.0%2Blocal", Purl(type="pypi", namespace=None, name="Django_Rest", version="1.0+local",
                                              qualifiers={}, subpath=None)),
    ("pkg:pypi/torch@2.4.0+cu121", Purl(type="pypi", namespace=None, name="torch", version="2.4.0+cu121",
                                        qualifiers={}, subpath=None)),
    ("pkg://pypi/six", Purl(type="pypi", namespace=None, name="six", version=None, qualifiers={}, subpath=None)),
    ("pkg:conda/numpy@1.26.4?build=py311h64a7726_0&channel=conda-forge&subdir=linux-64&type=conda",
     Purl(type="conda", namespace=None, name="numpy", version="1.26.4",
          qualifiers={"build": "py311h64a7726_0", "channel": "conda-forge", "subdir": "linux-64", "type": "conda"},
          subpath=None)),
    ("pkg:npm/%40babel/core@7.24.0?vcs_url=git%2Bhttps://github.com/babel/babel.git#packages/core",
     Purl(type="npm", namespace="@babel", name="core", version="7.24.0",
          qualifiers={"vcs_url": "git+https://github.com/babel/babel.git"}, subpath="packages/core")),
    ("pkg:pypi/x@1?Repository_URL=https://mirror.example/simple&file_name=",
     Purl(type="pypi", namespace=None, name="x", version="1",
          qualifiers={"repository_url": "https://mirror.example/simple"}, subpath=None)),
])
def test_purls(text: str, expected: Purl) -> None:
    assert parse_purl(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("pypi/requests@1", "does not start with 'pkg:'"),
    ("pkg:requests", "no '<type>/' after 'pkg:'"),
    ("pkg:1pypi/requests", "no '<type>/' after 'pkg:'"),
    ("pkg:pypi/@1.0", "no name"),
    ("pkg:pypi/requests@", "an empty version after '@'"),
    ("pkg:pypi/requests@1?build", "qualifier 'build' is not key=value"),
    ("pkg:pypi/requests@1?a=1&a=2", "qualifier 'a' given twice"),
])
def test_bad_purls(text: str, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_purl(text)
    assert str(raised.value) == message


def test_conda_components(tmp_path: Path) -> None:
    def conda(name: str, version: str, build: str, subdir: str) -> dict[str, Any]:
        return {"type": "library", "name": name, "version": version,
                "purl": f"pkg:conda/{name}@{version}?build={build}&channel=conda-forge&subdir={subdir}"}
    path = write(tmp_path, bom(conda("numpy", "1.26.4", "py311h64a7726_0", "linux-64"),
                               conda("openssl", "3.2.1", "hd590300_0", "linux-64"),
                               conda("_libgcc_mutex", "0.1", "conda_forge", "linux-64"),
                               conda("six", "1.16.0", "pyh6c4a22f_0", "noarch"),
                               conda("pytorch", "2.1.0", "cpu_generic_py311h1fd4b1c_0", "linux-ppc64le")))
    environment = READER.read(path, target=None)
    assert [(p.ecosystem, p.name, p.version, p.pypi_name, p.source, p.marker) for p in environment.packages] == [
        ("conda", "_libgcc_mutex", "0.1", None, Source(kind=SourceKind.CHANNEL, url="conda-forge"), LINUX),
        ("conda", "numpy", "1.26.4", "numpy", Source(kind=SourceKind.CHANNEL, url="conda-forge"), LINUX),
        ("conda", "openssl", "3.2.1", None, Source(kind=SourceKind.CHANNEL, url="conda-forge"), LINUX),
        ("conda", "pytorch", "2.1.0", "torch", Source(kind=SourceKind.CHANNEL, url="conda-forge"), None),
        ("conda", "six", "1.16.0", "six", Source(kind=SourceKind.CHANNEL, url="conda-forge"), None),
    ]
    assert environment.notes == ("conda platform linux-ppc64le: the gate has no target for it, so its packages carry "
                                 "no platform marker and are judged for every target",)


def test_nested_components_and_skipped_types(tmp_path: Path) -> None:
    image = {"type": "container", "name": "app-image", "purl": "pkg:oci/app-image@sha256%3Aabc",
             "components": [
                 {"type": "library", "name": "flask", "version": "3.0.2", "purl": "pkg:pypi/flask@3.0.2",
                  "scope": "required",
                  "components": [{"type": "library", "name": "jinja2", "purl": "pkg:pypi/jinja2@3.1.3",
                                  "scope": "optional"}]},
                 {"type": "library", "name": "left-pad", "purl": "pkg:npm/left-pad@1.3.0"},
             ]}
    path = write(tmp_path, bom(image, {"type": "library", "name": "pytest", "version": "8.0.2",
                                       "purl": "pkg:pypi/pytest", "scope": "excluded"},
                               {"type": "file", "name": "README.md"},
                               metadata={"component": {"type": "application", "name": "app",
                                                       "purl": "pkg:pypi/app@1.0"}}))
    environment = READER.read(path, target=None)
    assert [(p.name, p.version, p.group) for p in environment.packages] == [
        ("flask", "3.0.2", "runtime"), ("jinja2", "3.1.3", "optional"), ("pytest", "8.0.2", "excluded")]
    assert environment.notes == ("3 SBOM components were not read (not a PyPI or conda package): 1 pkg:npm, "
                                 "1 pkg:oci, 1 without a purl",)


def test_versions_and_hashes(tmp_path: Path) -> None:
    path = write(tmp_path, bom(
        {"name": "a", "purl": "pkg:pypi/a"},
        {"name": "b", "version": "2.0", "purl": "pkg:pypi/b",
         "hashes": [{"alg": "SHA-256", "content": "AB" * 32}, {"alg": "MD5", "content": "cd" * 16},
                    {"alg": "SHA-256", "content": "ab" * 32}]},
        {"name": "c", "purl": "pkg:pypi/c@1.0?download_url=file:///wheels/c-1.0-py3-none-any.whl"},
        {"name": "d", "purl": "pkg:pypi/d@1.0?repository_url=https://mirror.example/simple"},
    ))
    packages = {p.name: p for p in READER.read(path, target=None).packages}
    assert (packages["a"].version, packages["a"].specifier) == (None, "")
    assert packages["b"].version == "2.0"
    assert packages["b"].hashes == (("md5", "cd" * 16), ("sha256", "ab" * 32))
    assert packages["c"].source == Source(kind=SourceKind.PATH, url="file:///wheels/c-1.0-py3-none-any.whl")
    assert packages["d"].source == Source(kind=SourceKind.INDEX, url="https://mirror.example/simple")


def test_licences(tmp_path: Path) -> None:
    path = write(tmp_path, bom(
        {"name": "a", "purl": "pkg:pypi/a@1",
         "licenses": [{"license": {"id": "MIT"}}, {"license": {"id": "BSD-2-Clause"}}, {"license": {"id": "MIT"}}]},
        {"name": "b", "purl": "pkg:pypi/b@1", "licenses": [{"license": {"name": "Custom", "text": {
            "content": "UEsDBA==", "contentType": "application/zip", "encoding": "base64"}}}]},
        {"name": "c", "purl": "pkg:pypi/c@1", "licenses": [{"expression": "Apache-2.0 OR MIT"},
                                                           {"expression": "BSD-3-Clause"}]},
    ))
    licenses = {p.name: p.license for p in READER.read(path, target=None).packages}
    assert licenses == {
        "a": LicenseFields(expression="MIT AND BSD-2-Clause"),
        "b": LicenseFields(text="Custom"),
        "c": LicenseFields(expression="(Apache-2.0 OR MIT) AND (BSD-3-Clause)"),
    }


def test_purl_lines_with_repeats_and_escapes(tmp_path: Path) -> None:
    """A purl written twice gets its occurrences in order; escaped slashes still match."""
    text = ('{"bomFormat": "CycloneDX", "specVersion": "1.5",\n"components": [\n'
            '{"name": "a", "purl": "pkg:pypi\\/a@1"},\n'
            '{"name": "a", "purl": "pkg:pypi/a@1"},\n'
            '{"name": "b", "purl": "pkg:pypi/b@1"}]}\n')
    path = tmp_path / "sbom.json"
    path.write_text(text, encoding="utf-8")
    assert [(p.name, p.location.line if p.location else None) for p in READER.read(path, target=None).packages] == [
        ("a", 3), ("a", 4), ("b", 5)]


@pytest.mark.parametrize(("document", "message"), [
    ([], ": expected an object, got an array"),
    ({"bomFormat": "SPDX", "specVersion": "1.6"}, ": bomFormat: expected 'CycloneDX', got 'SPDX'"),
    ({"bomFormat": "CycloneDX"}, ": specVersion: missing"),
    ({"bomFormat": "CycloneDX", "specVersion": "2.0"}, ": specVersion: CycloneDX 2.0 is not supported (1.x)"),
    (bom() | {"components": {}}, ": components: expected an array, got an object"),
    (bom() | {"components": ["numpy"]}, ": components[0]: expected an object, got a string"),
    (bom({"name": "x", "purl": 3}), ": components[0].purl: expected a string, got a number"),
    (bom({"name": "x", "purl": "pypi/x@1"}), ":8: components[0].purl: not a package URL: does not start with 'pkg:' "
                                              "('pypi/x@1')"),
    (bom({"name": "x", "version": "2", "purl": "pkg:pypi/x@1"}), ":9: components[0].version: '2' disagrees with "
                                                                  "the purl's version '1'"),
    (bom({"name": "x", "purl": "pkg:pypi/ns/x@1"}), ":8: components[0].purl: a pkg:pypi purl has no namespace (got "
                                                    "'ns')"),
    (bom({"name": "x", "purl": "pkg:pypi/x@1", "scope": "dev"}), ":8: components[0].scope: expected required, "
                                                                 "optional or excluded, got 'dev'"),
    (bom({"name": "x", "purl": "pkg:pypi/x@1", "hashes": [{"alg": "CRC32", "content": "00"}]}),
     ":8: components[0].hashes[0].alg: unknown hash algorithm 'CRC32'"),
    (bom({"name": "x", "purl": "pkg:pypi/x@1", "hashes": [{"alg": "SHA-256", "content": "xyz"}]}),
     ":8: components[0].hashes[0].content: not a hex digest"),
    (bom({"name": "x", "purl": "pkg:pypi/x@1", "licenses": [{"license": "MIT"}]}),
     ":8: components[0].licenses[0].license: expected an object, got a string"),
    (bom({"name": "x", "purl": "pkg:pypi/x@1?vcs_url=https://github.com/x/x"}),
     ":8: components[0].purl: vcs_url 'https://github.com/x/x' is not a <vcs>+<url> URL"),
    (bom({"name": "x", "purl": "pkg:conda/x@1?subdir=linux-65"}),
     ":8: components[0].purl: subdir 'linux-65' is not a conda platform"),
    (bom(dependencies=[{"dependsOn": []}]), ": dependencies[0].ref: missing"),
])
def test_bad_input_is_one_line_error(tmp_path: Path, document: object, message: str) -> None:
    path = write(tmp_path, document)
    assert error(path) == str(path) + message


def test_invalid_truncated_and_binary(tmp_path: Path) -> None:
    text = ASSET.read_text(encoding="utf-8")
    truncated = tmp_path / "truncated.json"
    truncated.write_text(text[: text.index('"name": "requests"')], encoding="utf-8")
    assert error(truncated) == f"{truncated}:71: not valid JSON (Expecting property name enclosed in double quotes)"
    invalid = tmp_path / "invalid.json"
    invalid.write_text('{"bomFormat": "CycloneDX",\n "specVersion": 1.6,,}', encoding="utf-8")
    assert error(invalid) == f"{invalid}:2: not valid JSON (Expecting property name enclosed in double quotes)"
    binary = tmp_path / "binary.json"
    binary.write_bytes(b'{"bomFormat": "CycloneDX"}\n\xfe\xff')
    assert error(binary) == f"{binary}:2: not valid UTF-8 (invalid start byte: byte 0xfe at offset 27)"
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    assert error(deep) == f"{deep}: not valid JSON (nested too deeply)"


def test_detects_sboms(tmp_path: Path) -> None:
    assert READER.detect(ASSET)
    assert READER.detect(write(tmp_path, bom(), indent=None))
    # bomFormat written last, after more than the detection sample of components
    many = [{"name": f"p{i}", "purl": f"pkg:pypi/p{i}@1.0", "description": "x" * 200} for i in range(2000)]
    big = tmp_path / "big.json"
    big.write_text(json.dumps({"components": many, "specVersion": "1.6", "bomFormat": "CycloneDX"}), encoding="utf-8")
    assert big.stat().st_size > 200_000
    assert READER.detect(big)
    assert len(READER.read(big, target=None).packages) == 2000


@pytest.mark.parametrize("text", [
    "",
    '{"_meta": {"hash": {"sha256": "x"}}, "default": {}}',  # Pipfile.lock
    '["bomFormat", "CycloneDX"]',
    '<bom xmlns="http://cyclonedx.org/schema/bom/1.6"><bomFormat>CycloneDX</bomFormat></bom>',
    'dependencies:\n  - "bomFormat": "CycloneDX"\n',
])
def test_does_not_claim_other_files(tmp_path: Path, text: str) -> None:
    path = tmp_path / "file"
    path.write_text(text, encoding="utf-8")
    assert not READER.detect(path)


def test_detection_never_raises(tmp_path: Path) -> None:
    binary = tmp_path / "binary"
    binary.write_bytes(b'{"bomFormat": "CycloneDX"}\x00')
    assert not READER.detect(binary)
    assert not READER.detect(tmp_path)
    assert not READER.detect(tmp_path / "absent")
