"""The edge function: environment in, RegistryFacts out, against an index on loopback, with the
cache's freshness window, revalidation, the fallback for an unreachable index, and licences."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Unpack

import pytest

from gate.errors import ServiceError
from gate.model import LicenseFields, Package, RegistryFacts, ReleaseFacts, Source, SourceKind
from gate.policy.model import RegistryRules
from gate.registry import client as client_module
from gate.registry import fetch_registry_facts
from gate.registry.cache import RegistryCache
from tests.factories import PackageFields, environment, package
from tests.registry.helpers import IndexServer, edit_cache_header, metadata_text, refused_url, sha256

START = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)
MIT = metadata_text("demo", "1.0", license_expression="MIT")


class Clock:
    def __init__(self, instant: dt.datetime = START) -> None:
        self.instant = instant

    def now(self) -> dt.datetime:
        return self.instant


def pypi(name: str, version: str | None = "1.0", **fields: Unpack[PackageFields]) -> Package:
    fields.setdefault("source", Source(kind=SourceKind.INDEX))
    return package(name, version, **fields)


@pytest.fixture(autouse=True)
def no_retry_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client_module, "RETRY_DELAY", 0.0)


@pytest.fixture
def index(tmp_path: Path) -> Iterator[IndexServer]:
    with IndexServer(tmp_path / "index") as server:
        tree = server.tree
        tree.add("demo", "demo-1.0.tar.gz", uploaded="2026-11-20T08:00:00.000000Z")
        tree.add("demo", "demo-1.0-py3-none-any.whl", uploaded="2026-11-20T07:00:00.000000Z", metadata=MIT)
        tree.add("demo", "demo-2.0-py3-none-any.whl", uploaded="2026-11-25T00:00:00.000000Z")
        tree.add("old", "old-0.1.tar.gz", yanked="do not use")
        yield server


def rules(server_url: str, *, cache_max_age_hours: int | None = None) -> RegistryRules:
    return RegistryRules(url=server_url, cache_max_age_hours=cache_max_age_hours)


def test_facts_for_exactly_the_pinned_index_releases(index: IndexServer, tmp_path: Path) -> None:
    env = environment(pypi("demo"), pypi("old", "0.1"), pypi("demo-two", "2.0"), pypi("demo", "9.9", marker="x"),
                      pypi("loose", None, specifier=">=1"),
                      package("fork", "1.0", source=Source(kind=SourceKind.VCS, url="git+https://x", commit="abc")))
    facts = fetch_registry_facts(env, rules(index.index_url), cache_dir=tmp_path / "cache", clock=Clock())
    assert facts == RegistryFacts(
        url=index.index_url, fetched_at="2026-11-26T12:00:00Z", from_cache=False,
        releases=(
            ReleaseFacts(name="demo", version="1.0", upload_time="2026-11-20T07:00:00Z", yanked=None,
                         hashes=tuple(sorted(("sha256", sha256(f)) for f in ("demo-1.0.tar.gz",
                                                                            "demo-1.0-py3-none-any.whl")))),
            ReleaseFacts(name="old", version="0.1", upload_time="2025-01-01T00:00:00Z", yanked="do not use",
                         hashes=(("sha256", sha256("old-0.1.tar.gz")),)),
        ),
        missing=(("demo", "9.9"), ("demo-two", "2.0")),
    )
    assert index.paths() == ["/simple/demo-two/", "/simple/demo/", "/simple/old/"]


def test_warm_cache_asks_nothing(index: IndexServer, tmp_path: Path) -> None:
    env = environment(pypi("demo"), pypi("ghost", "1.0"))
    clock = Clock()
    first = fetch_registry_facts(env, rules(index.index_url), cache_dir=tmp_path / "cache", clock=clock)
    clock.instant = START + dt.timedelta(minutes=9)
    second = fetch_registry_facts(env, rules(index.index_url), cache_dir=tmp_path / "cache", clock=clock)
    assert len(index.requests) == 2  # the first call only; the 404 was cached too
    assert second == dataclasses.replace(first, from_cache=True)


def test_stale_entries_are_revalidated(index: IndexServer, tmp_path: Path) -> None:
    env = environment(pypi("demo"))
    clock = Clock()
    first = fetch_registry_facts(env, rules(index.index_url), cache_dir=tmp_path / "cache", clock=clock)
    clock.instant = START + dt.timedelta(minutes=11)
    second = fetch_registry_facts(env, rules(index.index_url), cache_dir=tmp_path / "cache", clock=clock)
    assert [r.headers.get("if-none-match") is not None for r in index.requests] == [False, True]
    assert second == dataclasses.replace(first, fetched_at="2026-11-26T12:11:00Z")
    # A page that changed is read anew.
    index.tree.add("demo", "demo-1.0-cp311-cp311-linux_x86_64.whl", yanked=True)
    clock.instant = START + dt.timedelta(minutes=30)
    third = fetch_registry_facts(env, rules(index.index_url), cache_dir=tmp_path / "cache", clock=clock)
    assert len(third.releases[0].hashes) == 3


def test_a_short_cache_allowance_shortens_the_freshness_window(index: IndexServer, tmp_path: Path) -> None:
    env = environment(pypi("demo"))
    clock = Clock()
    fetch_registry_facts(env, rules(index.index_url, cache_max_age_hours=0), cache_dir=tmp_path, clock=clock)
    clock.instant = START + dt.timedelta(seconds=1)
    fetch_registry_facts(env, rules(index.index_url, cache_max_age_hours=0), cache_dir=tmp_path, clock=clock)
    assert len(index.requests) == 2


def test_unreachable_index_without_an_allowed_cache_is_no_verdict(tmp_path: Path) -> None:
    with refused_url() as url, pytest.raises(ServiceError) as raised:
        fetch_registry_facts(environment(pypi("demo")), rules(url), cache_dir=tmp_path, clock=Clock())
    assert raised.value.diagnostic() == (
        f"{url}/demo/: cannot connect: Connection refused; registry.cache_max_age_hours is not set, so no cached "
        "answer may stand in")


def cache_from(index: IndexServer, tmp_path: Path, env_packages: list[Package], url: str) -> Path:
    """Fill a cache from ``index``, then file it under ``url`` (the index that will be down)."""
    source = tmp_path / "warm"
    fetch_registry_facts(environment(*env_packages), rules(index.index_url), cache_dir=source, clock=Clock())
    target = tmp_path / "cache"
    served = RegistryCache(source, index.index_url)
    moved = RegistryCache(target, url)
    for path in served.page_path("x").parent.iterdir():
        destination = moved.page_path(path.stem)
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(path.read_bytes())
        edit_cache_header(destination, index=url)
    return target


def test_unreachable_index_with_an_allowed_cache(index: IndexServer, tmp_path: Path) -> None:
    with refused_url() as url:
        cache = cache_from(index, tmp_path, [pypi("demo"), pypi("old", "0.1")], url)
        later = Clock(START + dt.timedelta(hours=5))
        facts = fetch_registry_facts(environment(pypi("demo"), pypi("old", "0.1")),
                                     rules(url, cache_max_age_hours=6), cache_dir=cache, clock=later)
        assert (facts.from_cache, facts.fetched_at, len(facts.releases)) == (True, "2026-11-26T12:00:00Z", 2)
        much_later = Clock(START + dt.timedelta(hours=7))
        with pytest.raises(ServiceError) as raised:
            fetch_registry_facts(environment(pypi("demo"), pypi("old", "0.1")), rules(url, cache_max_age_hours=6),
                                 cache_dir=cache, clock=much_later)
        assert raised.value.diagnostic() == (
            f"{url}/demo/: cannot connect: Connection refused; no cached answer within "
            "registry.cache_max_age_hours=6 for demo, old")


def test_a_down_index_is_asked_only_until_it_fails(tmp_path: Path) -> None:
    with IndexServer(tmp_path / "index") as server:
        server.state.fail_with = 502
        env = environment(*(pypi(f"p{number}") for number in range(40)))
        with pytest.raises(ServiceError) as raised:
            fetch_registry_facts(env, rules(server.index_url), cache_dir=tmp_path / "cache", clock=Clock(), workers=4)
        assert raised.value.message.startswith("HTTP 502 Bad Gateway; registry.cache_max_age_hours is not set")
        assert len(server.requests) <= 8  # at most one request and its retry per worker


def test_offline(index: IndexServer, tmp_path: Path) -> None:
    env = environment(pypi("demo"))
    fetch_registry_facts(env, rules(index.index_url), cache_dir=tmp_path, clock=Clock())
    later = Clock(START + dt.timedelta(hours=2))
    facts = fetch_registry_facts(env, rules(index.index_url, cache_max_age_hours=3), cache_dir=tmp_path,
                                 clock=later, offline=True)
    assert facts.from_cache
    with pytest.raises(ServiceError) as raised:
        fetch_registry_facts(env, rules(index.index_url), cache_dir=tmp_path, clock=later, offline=True)
    assert raised.value.diagnostic() == (
        f"{index.index_url}: offline: the index was not asked, and registry.cache_max_age_hours is not set, so no "
        "cached answer may stand in")
    assert len(index.requests) == 1


def test_names_an_index_cannot_serve_are_missing_without_a_request(index: IndexServer, tmp_path: Path) -> None:
    weird = Package(name="../etc", version="1.0", pypi_name="../etc", source=Source(kind=SourceKind.INDEX))
    facts = fetch_registry_facts(environment(weird), rules(index.index_url), cache_dir=tmp_path, clock=Clock())
    assert facts.missing == (("../etc", "1.0"),)
    assert index.requests == []


def test_damaged_release_in_the_cache(index: IndexServer, tmp_path: Path) -> None:
    env = environment(pypi("demo"))
    fetch_registry_facts(env, rules(index.index_url), cache_dir=tmp_path, clock=Clock())
    path = RegistryCache(tmp_path, index.index_url).page_path("demo")
    header, first, *_ = path.read_text(encoding="utf-8").splitlines()
    key, _, release = first.partition("\t")
    assert key == "1"
    path.write_text(f"{header}\n{key}\t{json.dumps({**json.loads(release), 'hashes': 'sha256:aa'})}\n",
                    encoding="utf-8")
    with pytest.raises(ServiceError) as raised:
        fetch_registry_facts(env, rules(index.index_url), cache_dir=tmp_path, clock=Clock())
    assert raised.value.diagnostic() == f"{path}: the cached answer is damaged (hashes is not a list): delete the file"
    path.write_text(f"{header}\n{key}\t{{oops\n", encoding="utf-8")
    with pytest.raises(ServiceError) as raised:
        fetch_registry_facts(env, rules(index.index_url), cache_dir=tmp_path, clock=Clock())
    assert raised.value.diagnostic() == (
        f"{path}: the cached answer is damaged (Expecting property name enclosed in double quotes: line 1 column 2 "
        "(char 1)): delete the file")


def test_licences_from_wheel_metadata(index: IndexServer, tmp_path: Path) -> None:
    index.tree.add("bare", "bare-3.0.tar.gz")  # an sdist only: no metadata to read
    licensed = pypi("old", "0.1", license=LicenseFields(expression="Apache-2.0"))
    env = environment(pypi("demo"), pypi("bare", "3.0"), licensed)
    facts = fetch_registry_facts(env, rules(index.index_url), cache_dir=tmp_path, clock=Clock(), licenses=True)
    assert {r.name: r.license for r in facts.releases} == {
        "bare": None, "demo": LicenseFields(expression="MIT"), "old": None}
    assert index.paths() == ["/files/demo-1.0-py3-none-any.whl.metadata", "/simple/bare/", "/simple/demo/",
                             "/simple/old/"]
    # Metadata never changes: later checks read it from the cache, even past the freshness window.
    later = Clock(START + dt.timedelta(days=3))
    again = fetch_registry_facts(env, rules(index.index_url), cache_dir=tmp_path, clock=later, licenses=True)
    assert {r.name: r.license for r in again.releases} == {r.name: r.license for r in facts.releases}
    assert sorted(r.path for r in index.requests[4:]) == ["/simple/bare/", "/simple/demo/", "/simple/old/"]
    # Without licences asked for, none are read.
    plain = fetch_registry_facts(env, rules(index.index_url), cache_dir=tmp_path / "other", clock=Clock())
    assert all(r.license is None for r in plain.releases)


def test_licence_metadata_failures(index: IndexServer, tmp_path: Path) -> None:
    env = environment(pypi("demo"))
    (index.tree.root / "files" / "demo-1.0-py3-none-any.whl.metadata").write_text("changed", encoding="utf-8")
    with pytest.raises(ServiceError) as raised:
        fetch_registry_facts(env, rules(index.index_url), cache_dir=tmp_path, clock=Clock(), licenses=True)
    assert raised.value.message == "the metadata file does not match the sha256 digest the index gives for it"
    # Offline with the pages cached but not the metadata: the licence is unknown, not an error.
    facts = fetch_registry_facts(env, rules(index.index_url), cache_dir=tmp_path, clock=Clock(), licenses=True,
                                 offline=True)
    assert facts.releases[0].license is None
    # Advertised but not served: unknown.
    (index.tree.root / "files" / "demo-1.0-py3-none-any.whl.metadata").unlink()
    facts = fetch_registry_facts(env, rules(index.index_url), cache_dir=tmp_path, clock=Clock(), licenses=True)
    assert facts.releases[0].license is None


def test_nothing_to_look_up_asks_nothing(tmp_path: Path) -> None:
    with refused_url() as url:
        facts = fetch_registry_facts(environment(), rules(url), cache_dir=tmp_path, clock=Clock())
    assert facts == RegistryFacts(url=url, fetched_at="2026-11-26T12:00:00Z", from_cache=False)


def test_a_304_to_a_plain_request_is_an_error(index: IndexServer, tmp_path: Path) -> None:
    index.state.fail_with = 304
    with pytest.raises(ServiceError) as raised:
        fetch_registry_facts(environment(pypi("demo")), rules(index.index_url), cache_dir=tmp_path, clock=Clock())
    assert raised.value.diagnostic() == (
        f"{index.index_url}/demo/: the index answered 304 Not Modified to a request that was not conditional; "
        "registry.cache_max_age_hours is not set, so no cached answer may stand in")
