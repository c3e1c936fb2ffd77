"""The on-disk cache: where it lives, what it keeps, and that damage reads as absence."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest

from gate.model import LicenseFields
from gate.registry.cache import CachedPage, RegistryCache, default_cache_dir

INDEX = "https://index.example/simple"
WHEN = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)
RELEASES = {"1": {"uploaded": "2025-03-01T09:30:00Z", "yanked": None, "hashes": ["sha256:aa"], "metadata": None}}


def test_default_cache_dir(tmp_path: Path) -> None:
    assert default_cache_dir({"GATE_CACHE_DIR": str(tmp_path)}) == tmp_path / "registry"
    from platformdirs import user_cache_path

    assert default_cache_dir({}) == user_cache_path("promotion-gate") / "registry"


def test_page_round_trip(tmp_path: Path) -> None:
    cache = RegistryCache(tmp_path, INDEX)
    page = CachedPage(project="demo", fetched_at=WHEN, missing=False, releases=RELEASES, etag='"abc"',
                      last_modified="Wed, 25 Nov 2026 10:00:00 GMT")
    cache.store_page(page)
    assert cache.load_page("demo") == page
    assert cache.page_path("demo").parent.parent == cache.folder
    assert [p.name for p in cache.page_path("demo").parent.iterdir()] == ["demo.json"]  # no temporary left behind
    header, release = cache.page_path("demo").read_text(encoding="utf-8").splitlines()
    assert json.loads(header) == {"format": 1, "index": INDEX, "project": "demo", "fetched_at": "2026-11-26T12:00:00Z",
                                  "etag": '"abc"', "last_modified": "Wed, 25 Nov 2026 10:00:00 GMT", "missing": False}
    assert release == '1\t{"uploaded":"2025-03-01T09:30:00Z","yanked":null,"hashes":["sha256:aa"],"metadata":null}'


def test_releases_are_read_one_at_a_time(tmp_path: Path) -> None:
    cache = RegistryCache(tmp_path, INDEX)
    releases = {key: {"uploaded": None, "yanked": None, "hashes": [f"sha256:{key}"], "metadata": None}
                for key in ("1", "1.1", "10", "2.0rc1")}
    cache.store_page(CachedPage(project="demo", fetched_at=WHEN, missing=False, releases=releases))
    loaded = cache.load_page("demo")
    assert loaded is not None
    assert loaded.releases["1"]["hashes"] == ["sha256:1"]  # not "1.1" or "10", which start alike
    assert loaded.releases.get("1.0") is None
    assert (sorted(loaded.releases), len(loaded.releases)) == (["1", "1.1", "10", "2.0rc1"], 4)
    assert dict(loaded.releases) == releases
    # Revalidated: the stored lines are written back as they are, under a new header.
    later = dataclasses.replace(loaded, fetched_at=WHEN + dt.timedelta(hours=1), etag='"new"')
    cache.store_page(later)
    assert cache.load_page("demo") == later
    # A damaged line is an error when it is read, and only then.
    path = cache.page_path("demo")
    path.write_bytes(path.read_bytes().replace(b'1.1\t{"', b"1.1\t{oops"))
    damaged = cache.load_page("demo")
    assert damaged is not None
    assert damaged.releases["10"]["hashes"] == ["sha256:10"]
    with pytest.raises(ValueError, match=r"^Expecting property name"):
        damaged.releases["1.1"]


def test_missing_projects_are_cached_too(tmp_path: Path) -> None:
    cache = RegistryCache(tmp_path, INDEX)
    cache.store_page(CachedPage(project="ghost", fetched_at=WHEN, missing=True, releases={}))
    loaded = cache.load_page("ghost")
    assert loaded is not None
    assert loaded.missing


def test_each_index_has_its_own_answers(tmp_path: Path) -> None:
    RegistryCache(tmp_path, INDEX).store_page(CachedPage(project="demo", fetched_at=WHEN, missing=False,
                                                         releases=RELEASES))
    assert RegistryCache(tmp_path, "https://mirror.example/simple").load_page("demo") is None


def test_damaged_entries_read_as_absent(tmp_path: Path) -> None:
    cache = RegistryCache(tmp_path, INDEX)
    assert cache.load_page("demo") is None
    good = {"format": 1, "index": INDEX, "project": "demo", "fetched_at": "2026-11-26T12:00:00Z", "etag": None,
            "last_modified": None, "missing": False}
    path = cache.page_path("demo")
    path.parent.mkdir(parents=True)
    for damaged in [
        b"", b"{not json\n", b"\xff\xfe\n", b"[]\n", json.dumps(good).encode(),  # the last: no newline, cut short
        json.dumps({**good, "format": 2}).encode() + b"\n",
        json.dumps({**good, "index": "https://elsewhere.example/simple"}).encode() + b"\n",
        json.dumps({**good, "project": "other"}).encode() + b"\n",
        json.dumps({**good, "fetched_at": "yesterday"}).encode() + b"\n",
        json.dumps({**good, "fetched_at": None}).encode() + b"\n",
        json.dumps({**good, "missing": "no"}).encode() + b"\n",
        json.dumps({**good, "etag": 5}).encode() + b"\n",
        json.dumps({**good, "last_modified": []}).encode() + b"\n",
    ]:
        path.write_bytes(damaged)
        assert cache.load_page("demo") is None, damaged
    path.write_text(json.dumps(good) + "\n", encoding="utf-8")
    assert cache.load_page("demo") is not None


def test_an_unwritable_cache_is_skipped(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder would go", encoding="utf-8")
    cache = RegistryCache(blocker, INDEX)
    cache.store_page(CachedPage(project="demo", fetched_at=WHEN, missing=False, releases=RELEASES))
    assert cache.load_page("demo") is None


def test_metadata_round_trip(tmp_path: Path) -> None:
    cache = RegistryCache(tmp_path, INDEX)
    url = "https://files.example/demo-1.0-py3-none-any.whl.metadata"
    fields = LicenseFields(expression="MIT", text=None, classifiers=("License :: OSI Approved :: MIT License",))
    assert cache.load_metadata(url, (("sha256", "aa"),)) is None
    cache.store_metadata(url, (("sha256", "aa"),), fields)
    assert cache.load_metadata(url, (("sha256", "aa"),)) == fields
    # The hash the index gives is part of the key: a file served anew under the same URL is read anew.
    assert cache.load_metadata(url, (("sha256", "bb"),)) is None
    path = cache.metadata_path(url, (("sha256", "aa"),))
    for damaged in [{"format": 1, "url": url, "license": {"expression": 1, "classifiers": []}},
                    {"format": 1, "url": url, "license": {"classifiers": [1]}},
                    {"format": 1, "url": url, "license": []},
                    {"format": 1, "url": "elsewhere", "license": {"classifiers": []}}]:
        path.write_text(json.dumps(damaged), encoding="utf-8")
        assert cache.load_metadata(url, (("sha256", "aa"),)) is None
