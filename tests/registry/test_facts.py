"""Project pages to release facts: pure, no server needed."""

from __future__ import annotations

import pytest

from gate.model import LicenseFields, Location, Package, Source, SourceKind
from gate.registry.facts import (
    MetadataRef,
    PageError,
    Release,
    file_version,
    is_index_release,
    license_fields,
    reduce_page,
    release_from_reduced,
    split_credentials,
    version_key,
    wanted_releases,
)
from tests.factories import environment, package

PAGE = "https://index.example/simple/demo/"


def page(*files: object, api: str = "1.1") -> dict[str, object]:
    """A PEP 691 project page; ``files`` may be anything, as a hostile index may serve anything."""
    return {"meta": {"api-version": api}, "name": "demo", "files": list(files)}


def file(filename: str, digest: str = "AA", /, **extra: object) -> dict[str, object]:
    """A file entry; ``extra`` holds keys that are no identifiers (``**{"upload-time": ...}``)."""
    return {"filename": filename, "url": f"../../files/{filename}", "hashes": {"sha256": digest}, **extra}


@pytest.mark.parametrize(("filename", "project", "version"), [
    ("demo-1.0-py3-none-any.whl", "demo", "1.0"),
    ("demo-1.0-1build-cp311-cp311-manylinux_2_17_x86_64.whl", "demo", "1.0"),
    ("Demo_Pkg-2.0.post1-py3-none-any.whl", "demo-pkg", "2.0.post1"),
    ("demo_pkg-2.0.tar.gz", "demo-pkg", "2.0"),
    ("python-dateutil-2.8.2.tar.gz", "python-dateutil", "2.8.2"),
    ("demo-1.0-beta.tar.gz", "demo", "1.0-beta"),
    ("demo-1.0.zip", "demo", "1.0"),
    ("demo-1.0.tar.bz2", "demo", "1.0"),
    ("demo-1.0-py2.7.egg", "demo", "1.0"),
    ("demo-1.0.win32.exe", "demo", None),
    ("other-1.0-py3-none-any.whl", "demo", None),
    ("other-1.0.tar.gz", "demo", None),
    ("demo-.tar.gz", "demo", None),
    ("demo-1.0-py3-any.whl", "demo", None),
])
def test_file_version(filename: str, project: str, version: str | None) -> None:
    assert file_version(filename, project) == version


def test_version_key_follows_pep440_equality() -> None:
    assert version_key("1.0.0") == version_key("1.0") == version_key(" 1 ")
    assert version_key("2.5.1+cu121") != version_key("2.5.1")
    assert version_key("not a version") == "not a version"


def test_reduce_page_groups_files_by_release() -> None:
    reduced = reduce_page(page(
        file("demo-1.0.tar.gz", "AA", **{"upload-time": "2025-03-02T10:00:00.123456Z"}),
        file("demo-1.0-py3-none-any.whl", "BB", **{"upload-time": "2025-03-01T09:30:00.000000Z"}),
        file("demo-1.0.0-cp311-cp311-linux_x86_64.whl", "cc", **{"upload-time": "2025-03-05T00:00:00Z"}),
        file("demo-2.0.tar.gz", "DD"),
        file("demo-2.0.win32.exe", "EE", **{"upload-time": "2020-01-01T00:00:00Z"}),
    ), project="demo", page_url=PAGE)
    assert reduced == {
        "1": {"uploaded": "2025-03-01T09:30:00Z", "yanked": None, "hashes": ["sha256:aa", "sha256:bb", "sha256:cc"],
              "metadata": None},
        "2": {"uploaded": None, "yanked": None, "hashes": ["sha256:dd"], "metadata": None},
    }


def test_a_release_is_yanked_when_every_file_is() -> None:
    reduced = reduce_page(page(
        file("demo-1.0.tar.gz", yanked=True),
        file("demo-1.0-py3-none-any.whl", yanked="broken on 3.12"),
        file("demo-2.0.tar.gz", yanked=True),
        file("demo-3.0.tar.gz", yanked="security"),
        file("demo-3.0-py3-none-any.whl", yanked=False),
    ), project="demo", page_url=PAGE)
    assert reduced["1"]["yanked"] == "broken on 3.12"
    assert reduced["2"]["yanked"] == ""
    assert reduced["3"]["yanked"] is None


def test_metadata_prefers_unyanked_pure_wheels_and_resolves_urls() -> None:
    reduced = reduce_page(page(
        file("demo-1.0.tar.gz", **{"core-metadata": {"sha256": "00"}}),
        file("demo-1.0-cp311-cp311-linux_x86_64.whl", **{"core-metadata": {"sha256": "11"}}),
        file("demo-1.0-py3-none-any.whl", yanked=True, **{"core-metadata": {"sha256": "22"}}),
        {**file("demo-1.0-cp312-cp312-linux_x86_64.whl", **{"data-dist-info-metadata": True}),
         "url": "https://files.example/demo-1.0-cp312-cp312-linux_x86_64.whl#sha256=AA"},
        file("demo-2.0-cp311-cp311-linux_x86_64.whl", **{"core-metadata": False, "data-dist-info-metadata": True}),
    ), project="demo", page_url=PAGE)
    assert reduced["1"]["metadata"] == {
        "url": "https://index.example/files/demo-1.0-cp311-cp311-linux_x86_64.whl.metadata", "hashes": ["sha256:11"]}
    # PEP 714: core-metadata, when present, wins over the older key even when false.
    assert reduced["2"]["metadata"] is None


def test_metadata_of_the_older_key_with_true() -> None:
    reduced = reduce_page(page(
        {**file("demo-1.0-py3-none-any.whl", **{"data-dist-info-metadata": True}),
         "url": "https://files.example/demo-1.0-py3-none-any.whl#sha256=AA"},
    ), project="demo", page_url=PAGE)
    assert reduced["1"]["metadata"] == {"url": "https://files.example/demo-1.0-py3-none-any.whl.metadata",
                                        "hashes": []}


@pytest.mark.parametrize(("document", "message"), [
    ([], "not a JSON object"),
    ({"files": []}, "meta: missing or not an object"),
    (page(api="2.0"), "meta.api-version: unsupported API version '2.0' (the gate reads PEP 691 version 1.x)"),
    ({"meta": {"api-version": "1.0"}, "files": {}}, "files: missing or not a list"),
    (page("x"), "files[0]: not an object"),
    (page({"url": "u", "hashes": {}}), "files[0].filename: missing or not a string"),
    (page({"filename": "demo-1.0.tar.gz", "hashes": {}}), "files[0].url: missing or not a string"),
    (page({"filename": "demo-1.0.tar.gz", "url": "u"}), "files[0].hashes: missing or not an object"),
    (page(file("demo-1.0.tar.gz"), file("demo-1.1.tar.gz", **{"upload-time": "yesterday"})),
     "files[1].upload-time: 'yesterday' is not an ISO 8601 timestamp"),
    (page(file("demo-1.0.tar.gz", **{"upload-time": 5})), "files[0].upload-time: not a string"),
    (page(file("demo-1.0.tar.gz", yanked=None)), "files[0].yanked: neither a boolean nor a string"),
    (page(file("demo-1.0.tar.gz", "")), "files[0].hashes.sha256: not a hex digest"),
    (page(file("demo-1.0-py3-none-any.whl", **{"core-metadata": "yes"})),
     "files[0].core-metadata: neither a boolean nor an object"),
])
def test_malformed_pages(document: object, message: str) -> None:
    with pytest.raises(PageError) as raised:
        reduce_page(document, project="demo", page_url=PAGE)
    assert str(raised.value) == message


def test_reduced_release_round_trip_and_damage() -> None:
    reduced = reduce_page(page(file("demo-1.0-py3-none-any.whl", "AB", yanked="bad",
                                    **{"upload-time": "2025-03-01T09:30:00Z", "core-metadata": {"sha256": "CD"}})),
                          project="demo", page_url=PAGE)
    assert release_from_reduced(reduced["1"]) == Release(
        upload_time="2025-03-01T09:30:00Z", yanked="bad", hashes=(("sha256", "ab"),),
        metadata=MetadataRef(url="https://index.example/files/demo-1.0-py3-none-any.whl.metadata",
                             hashes=(("sha256", "cd"),)))
    for damaged, message in [
        ([], "a release entry is not an object"),
        ({"uploaded": 3}, "uploaded is not a string"),
        ({"yanked": False}, "yanked is not a string"),
        ({"hashes": "sha256:aa"}, "hashes is not a list"),
        ({"hashes": ["aa"]}, "'aa' is not algorithm:hex"),
        ({"metadata": {"hashes": []}}, "metadata is not an object with a url"),
    ]:
        with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace(")", r"\)") + "$"):
            release_from_reduced(damaged)


def test_index_releases_and_wanted_pairs() -> None:
    index = package("demo", "1.0", source=Source(kind=SourceKind.INDEX))
    unknown = package("old", "0.1")  # factories: SourceKind.UNKNOWN
    vcs = package("fork", "1.0", source=Source(kind=SourceKind.VCS, url="git+https://x/fork", commit="abc"))
    conda = Package(name="libblas", version="3.9", ecosystem="conda", source=Source(kind=SourceKind.CHANNEL),
                    location=Location(file="environment.yml"))
    unpinned = package("loose", None, specifier=">=1", source=Source(kind=SourceKind.INDEX))
    twin = package("demo", "1.0", source=Source(kind=SourceKind.INDEX), marker="python_version >= '3.11'")
    assert [is_index_release(p) for p in (index, unknown, vcs, conda, unpinned)] == [True, True, False, False, True]
    assert wanted_releases(environment(index, unknown, vcs, conda, unpinned, twin)) == (("demo", "1.0"), ("old", "0.1"))


def test_license_fields_from_core_metadata() -> None:
    text = ("Metadata-Version: 2.4\nName: demo\nVersion: 1.0\nLicense-Expression: MIT OR Apache-2.0\n"
            "License: see LICENSE\nClassifier: License :: OSI Approved :: MIT License\n"
            "Classifier: Programming Language :: Python\n\nLicense: not a header, the description\n")
    assert license_fields(text.encode()) == LicenseFields(
        expression="MIT OR Apache-2.0", text="see LICENSE", classifiers=("License :: OSI Approved :: MIT License",))
    assert license_fields(b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n") == LicenseFields()
    assert license_fields(b"Name: demo\nLicense: Copyright \xa9 ACME\n").text == "Copyright \ufffd ACME"


def test_split_credentials() -> None:
    assert split_credentials("https://index.example/simple") == ("https://index.example/simple", None)
    assert split_credentials("https://ci:s%40cret@index.example:8443/simple") == (
        "https://index.example:8443/simple", "Basic Y2k6c0BjcmV0")
    assert split_credentials("https://__token__@[::1]/simple")[0] == "https://[::1]/simple"
