"""The registry rule on facts built by hand: pure, no index needed."""

from __future__ import annotations

from pathlib import Path
from typing import Unpack

import pytest

from gate.errors import ServiceError
from gate.model import Environment, Package, RegistryFacts, ReleaseFacts, Source, SourceKind, Status, Target
from gate.policy import load_policy
from gate.policy.model import Policy
from gate.policy.rules.base import Context
from gate.policy.rules.registry import RegistryRule
from tests.factories import NOW, PackageFields, package

URL = "https://index.example/simple"
GOOD = "a" * 64
OTHER = "b" * 64
POLICY = f"""\
registry:
  url: {URL}/
  min_release_age_days: 7
  forbid_yanked: true
  verify_hashes: true
"""


def pypi(name: str, version: str | None = "1.0", **fields: Unpack[PackageFields]) -> Package:
    fields.setdefault("hashes", (("sha256", GOOD),))
    fields.setdefault("source", Source(kind=SourceKind.INDEX))
    return package(name, version, **fields)


def environment(*packages: Package) -> Environment:
    """A lockfile's environment: its packages carry locked hashes (the factories' is a venv)."""
    return Environment.create(source="requirements.txt", kind="requirements", target=Target(), packages=packages)


def release(name: str, version: str = "1.0", *, uploaded: str | None = "2026-01-01T00:00:00Z",
            yanked: str | None = None, hashes: tuple[tuple[str, str], ...] = (("sha256", GOOD),)) -> ReleaseFacts:
    return ReleaseFacts(name=name, version=version, upload_time=uploaded, yanked=yanked, hashes=hashes)


def facts(*releases: ReleaseFacts, missing: tuple[tuple[str, str], ...] = (),
          from_cache: bool = False) -> RegistryFacts:
    return RegistryFacts(url=URL, fetched_at="2026-11-26T11:59:00Z", from_cache=from_cache, releases=releases,
                         missing=missing)


def policy(tmp_path: Path, text: str = POLICY) -> Policy:
    path = tmp_path / "policy.yml"
    path.write_text(text, encoding="utf-8")
    return load_policy(path)


def judge(tmp_path: Path, env: Environment, registry: RegistryFacts | None,
          text: str = POLICY) -> tuple[list[tuple[str, str | None, str]], tuple[str, ...]]:
    outcome = RegistryRule().check(Context(environment=env, policy=policy(tmp_path, text), matches=(), database=None,
                                           now=NOW, registry=registry))
    assert all(v.status is Status.BLOCKING for v in outcome.violations)
    return [(v.rule, v.package.label if v.package else None, v.detail) for v in outcome.violations], outcome.notes


def test_a_clean_release_passes(tmp_path: Path) -> None:
    found, notes = judge(tmp_path, environment(pypi("demo")), facts(release("demo")))
    assert found == []
    assert notes == (f"registry: 1 release(s) checked against {URL}.",)


def test_no_section_no_check(tmp_path: Path) -> None:
    assert judge(tmp_path, environment(pypi("demo")), None, text="stage: dev\n") == ([], ())


def test_a_section_without_facts_is_no_verdict(tmp_path: Path) -> None:
    with pytest.raises(ServiceError) as raised:
        judge(tmp_path, environment(pypi("demo")), None)
    assert raised.value.diagnostic() == (
        f"{URL}: the policy has a registry section, but the index's answers were not fetched")


def test_yanked(tmp_path: Path) -> None:
    found, _ = judge(tmp_path, environment(pypi("demo"), pypi("old")),
                     facts(release("demo", yanked="data loss on upgrade"), release("old", yanked="")))
    assert found == [
        ("registry.forbid_yanked", "demo==1.0", f"yanked from {URL} (reason given: 'data loss on upgrade'): a yanked "
         "release is one its authors withdrew; move to a release that is not yanked"),
        ("registry.forbid_yanked", "old==1.0", f"yanked from {URL} (no reason given): a yanked release is one its "
         "authors withdrew; move to a release that is not yanked"),
    ]


def test_young_releases_are_quarantined(tmp_path: Path) -> None:
    # NOW is 2026-11-26T12:00Z.
    found, _ = judge(tmp_path, environment(pypi("fresh"), pypi("week"), pypi("future")), facts(
        release("fresh", uploaded="2026-11-24T09:30:00Z"),
        release("week", uploaded="2026-11-19T12:00:00Z"),  # exactly 7 days: old enough
        release("future", uploaded="2026-11-27T00:00:00Z"),  # the index's clock is ahead: age 0
    ))
    assert found == [
        ("registry.min_release_age_days", "fresh==1.0", "uploaded 2026-11-24T09:30:00Z, 2 day(s) ago: the policy "
         "quarantines releases younger than 7 day(s); it may be promoted from 2026-12-01T09:30:00Z, or pin an older "
         "release"),
        ("registry.min_release_age_days", "future==1.0", "uploaded 2026-11-27T00:00:00Z, 0 day(s) ago: the policy "
         "quarantines releases younger than 7 day(s); it may be promoted from 2026-12-04T00:00:00Z, or pin an older "
         "release"),
    ]


def test_an_age_that_cannot_be_shown_blocks(tmp_path: Path) -> None:
    found, _ = judge(tmp_path, environment(pypi("demo"), pypi("odd")),
                     facts(release("demo", uploaded=None), release("odd", uploaded="last week")))
    assert found == [
        ("registry.min_release_age_days", "demo==1.0", f"{URL} gives no upload time (PEP 700 upload-time) for this "
         "release, so its age cannot be shown to be at least 7 day(s); use an index that serves upload times"),
        ("registry.min_release_age_days", "odd==1.0", f"the upload time 'last week' given by {URL} is not a "
         "timestamp, so the release's age cannot be shown to be at least 7 day(s)"),
    ]


def test_locked_hashes_must_be_served(tmp_path: Path) -> None:
    env = environment(
        pypi("demo", hashes=(("sha256", GOOD), ("sha256", OTHER))),
        pypi("upper", hashes=(("SHA256", GOOD.upper()),)),
        pypi("md5", hashes=(("md5", "c" * 32),)),
        pypi("bare", hashes=()),
    )
    found, _ = judge(tmp_path, env, facts(release("demo"), release("upper"), release("md5"), release("bare")))
    assert found == [
        ("registry.verify_hashes", "bare==1.0", "no locked hash: the artifact cannot be shown to be one the approved "
         "index serves; lock with hashes (for example `uv pip compile --generate-hashes` or `pip-compile "
         "--generate-hashes`)"),
        ("registry.verify_hashes", "demo==1.0", f"1 of 2 locked hash(es) are not served by {URL} for this release "
         f"(sha256:{OTHER}): the locked artifact is not one the approved index serves; re-lock against the approved "
         "index"),
        ("registry.verify_hashes", "md5==1.0", f"1 of 1 locked hash(es) are not served by {URL} for this release "
         f"(md5:{'c' * 32}); the index gives no md5 hashes: the locked artifact is not one the approved index serves; "
         "re-lock against the approved index"),
    ]


def test_installed_environments_have_no_locked_hashes(tmp_path: Path) -> None:
    env = Environment.create(source="/venv", kind="venv", target=Target(python="3.11"),
                             packages=[pypi("demo", hashes=()), pypi("other", hashes=()),
                                       pypi("wheel-with-hash", hashes=(("sha256", OTHER),))])
    found, notes = judge(tmp_path, env, facts(release("demo"), release("other"), release("wheel-with-hash")))
    assert [(rule, label) for rule, label, _ in found] == [("registry.verify_hashes", "wheel-with-hash==1.0")]
    assert notes[1] == (
        "registry.verify_hashes: 2 installed package(s) were not verified: an installed environment records no "
        "artifact hashes, so verify_hashes needs the lockfile with hashes (check it with --lockfile).")


def test_missing_releases(tmp_path: Path) -> None:
    torch = pypi("torch", "2.5.1+cu121", hashes=(), source=Source(kind=SourceKind.INDEX,
                                                               url="https://download.pytorch.org/whl/cu121"))
    found, _ = judge(tmp_path, environment(pypi("ghost"), torch, pypi("unasked")),
                     facts(missing=(("ghost", "1.0"), ("torch", "2.5.1+cu121"))))
    assert found == [
        ("registry.missing", "ghost==1.0", f"the approved index {URL} does not serve this release: a release the index "
         "does not serve was never vetted there; lock a version it serves, or have this one added to it"),
        ("registry.missing", "torch==2.5.1+cu121", f"the approved index {URL} does not serve this release (it was "
         "locked from https://download.pytorch.org/whl/cu121): a release the index does not serve was never vetted "
         "there; lock a version it serves, or have this one added to it"),
        ("registry.missing", "unasked==1.0", f"the approved index {URL} was not asked about this release, so nothing "
         "vouches for it"),
    ]


def test_unpinned_and_foreign_packages(tmp_path: Path) -> None:
    conda = Package(name="libblas", version="3.9", ecosystem="conda", source=Source(kind=SourceKind.CHANNEL))
    vcs = package("fork", "1.0", source=Source(kind=SourceKind.VCS, url="git+https://x/fork", commit="abc"))
    editable = package("mine", "0.1", source=Source(kind=SourceKind.EDITABLE, url="/src/mine"))
    found, notes = judge(tmp_path, environment(pypi("loose", None, specifier=">=1.2"), conda, vcs, editable), facts())
    assert found == [("registry.unpinned", "loose >=1.2", "not pinned (>=1.2): the index's facts are per release, so "
                      "there is nothing to look up; pin an exact version")]
    assert notes == (
        f"registry: 0 release(s) checked against {URL}.",
        "registry: 3 package(s) are not index releases and were not looked up (`sources` judges where they came "
        "from): libblas (conda), fork (vcs), mine (editable).",
    )


def test_many_foreign_packages_are_summarised(tmp_path: Path) -> None:
    forks = [package(f"fork{n:02}", "1.0", source=Source(kind=SourceKind.URL, url=f"https://x/{n}.whl"))
             for n in range(12)]
    _, notes = judge(tmp_path, environment(*forks), facts())
    assert notes[1].endswith("fork08 (url), fork09 (url) and 2 more.")


def test_cached_answers_are_said(tmp_path: Path) -> None:
    _, notes = judge(tmp_path, environment(pypi("demo")), facts(release("demo"), from_cache=True))
    assert notes[1] == (f"registry: answers from {URL} were taken from the on-disk cache instead of asking the index; "
                        "the oldest was fetched at 2026-11-26T11:59:00Z.")


def test_each_switch_is_independent(tmp_path: Path) -> None:
    text = f"registry:\n  url: {URL}\n"
    env = environment(pypi("demo", hashes=()), pypi("ghost"))
    found, _ = judge(tmp_path, env, facts(release("demo", uploaded=None, yanked="x"), missing=(("ghost", "1.0"),)),
                     text=text)
    assert [rule for rule, _, _ in found] == ["registry.missing"]
