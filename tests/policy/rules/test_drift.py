from __future__ import annotations

from gate.model import Environment, ModifiedFile, Package, Source, SourceKind, Status, Target
from gate.policy.model import DriftRules, Policy
from gate.policy.rules.base import Context, Outcome
from gate.policy.rules.drift import DriftRule
from tests.factories import NOW, package

EVERYTHING = frozenset({"added", "removed", "changed", "modified_files"})


PYTHON_311 = Target(python="3.11")


def env(*packages: Package, kind: str = "venv", target: Target = PYTHON_311) -> Environment:
    return Environment.create(source="/venv", kind=kind, target=target, packages=list(packages))


def judge(current: Environment, baseline: Environment | None, *, forbid: frozenset[str] = EVERYTHING,
          modified: tuple[ModifiedFile, ...] | None = (), section: bool = True) -> Outcome:
    policy = Policy(path="p.yml", digest="sha256:0", effective={},
                    drift=DriftRules(forbid=forbid) if section else None)
    context = Context(environment=current, policy=policy, matches=(), database=None, now=NOW, baseline=baseline,
                      modified_files=modified)
    return DriftRule().check(context)


def found(outcome: Outcome) -> list[tuple[str, str | None, Status, str]]:
    return [(v.rule, v.package.name if v.package else None, v.status, v.detail) for v in outcome.violations]


def baseline(*packages: Package, kind: str = "result.json (venv)") -> Environment:
    return Environment.create(source="approved/result.json", kind=kind, target=Target(python="3.11"),
                              packages=list(packages))


WHERE = "the baseline approved/result.json"


def test_identical_environments_do_not_drift() -> None:
    packages = (package("requests", "2.32.3"), package("numpy", "2.2.6"))
    assert judge(env(*packages), baseline(*packages)) == Outcome()


def test_added_removed_and_changed_packages() -> None:
    outcome = judge(env(package("requests", "2.32.4"), package("numpy", "2.2.6"), package("evil", "0.1")),
                    baseline(package("requests", "2.32.3"), package("numpy", "2.2.6"), package("six", "1.17.0")))
    assert found(outcome) == [
        ("drift.added", "evil", Status.BLOCKING,
         f"evil 0.1 is not in {WHERE}: it was added since approval; remove it, or approve it by making a new "
         "baseline"),
        ("drift.changed", "requests", Status.BLOCKING,
         f"requests changed since {WHERE}: 2.32.3 → 2.32.4; restore the approved one, or approve the change by "
         "making a new baseline"),
        ("drift.removed", "six", Status.BLOCKING,
         f"six 1.17.0 is in {WHERE} but not here: it was removed since approval; restore it, or approve the removal "
         "by making a new baseline"),
    ]


def test_kinds_not_forbidden_are_warnings() -> None:
    outcome = judge(env(package("requests", "2.32.4"), package("evil", "0.1")), baseline(package("requests", "2.32.3")),
                    forbid=frozenset({"added"}))
    assert [(rule, status) for rule, _, status, _ in found(outcome)] == [
        ("drift.added", Status.BLOCKING), ("drift.changed", Status.WARNING)]


def test_no_section_no_check() -> None:
    assert judge(env(package("evil")), baseline(), section=False) == Outcome()


def test_changed_artifact_hash() -> None:
    approved = package("requests", "2.32.3", hashes=(("sha256", "aa" * 32), ("sha256", "bb" * 32)))
    same = package("requests", "2.32.3", hashes=(("sha256", "bb" * 32),))  # one of the approved wheels
    other = package("requests", "2.32.3", hashes=(("sha256", "cc" * 32),))
    unknown = package("requests", "2.32.3")  # a venv installed from an index records no hash
    assert judge(env(same), baseline(approved)) == Outcome()
    assert judge(env(unknown), baseline(approved)) == Outcome()
    assert found(judge(env(other), baseline(approved))) == [
        ("drift.changed", "requests", Status.BLOCKING,
         f"requests changed since {WHERE}: 2.32.3 has artifact sha256:{'cc' * 32}, which is none of the 2 approved "
         "ones; restore the approved one, or approve the change by making a new baseline")]


def test_changed_source() -> None:
    def vcs(commit: str, url: str = "https://example.com/tool.git") -> Package:
        return package("tool", "1.2", source=Source(kind=SourceKind.VCS, url=url, commit=commit))

    assert judge(env(vcs("0123abc")), baseline(vcs("0123abc"))) == Outcome()
    assert found(judge(env(vcs("fedcba9")), baseline(vcs("0123abc"))))[0][3] == (
        f"tool changed since {WHERE}: 1.2 is commit fedcba9, approved at 0123abc; restore the approved one, or "
        "approve the change by making a new baseline")
    assert found(judge(env(vcs("0123abc", "https://evil.example/tool.git")), baseline(vcs("0123abc"))))[0][3] == (
        f"tool changed since {WHERE}: 1.2 comes from https://evil.example/tool.git, approved from "
        "https://example.com/tool.git; restore the approved one, or approve the change by making a new baseline")
    index = package("tool", "1.2", source=Source(kind=SourceKind.INDEX))
    assert found(judge(env(index), baseline(vcs("0123abc"))))[0][3] == (
        f"tool changed since {WHERE}: 1.2 comes from an index source, approved from a vcs one; restore the approved "
        "one, or approve the change by making a new baseline")
    unknown = package("tool", "1.2")  # no INSTALLER: provenance unknown, so not a difference
    assert judge(env(unknown), baseline(vcs("0123abc"))) == Outcome()


def test_a_venv_against_the_lockfile_it_was_installed_from() -> None:
    """Markers differ (the lock has them, the venv not): packages still match by name."""
    locked = (package("numpy", "2.2.6", marker="python_full_version >= '3.11'",
                      source=Source(kind=SourceKind.INDEX, url="https://pypi.org/simple"),
                      hashes=(("sha256", "dd" * 32),)),)
    installed = (package("numpy", "2.2.6", source=Source(kind=SourceKind.INDEX)),)
    assert judge(env(*installed), baseline(*locked, kind="uv.lock")) == Outcome()


def test_a_project_locked_in_two_versions() -> None:
    forks = (package("numpy", "1.26.4", marker="python_version < '3.11'"),
             package("numpy", "2.2.6", marker="python_version >= '3.11'"))
    assert judge(env(*forks, kind="uv.lock"), baseline(*forks, kind="uv.lock")) == Outcome()
    assert found(judge(env(forks[1], kind="uv.lock"), baseline(*forks, kind="uv.lock")))[0][3] == (
        f"numpy changed since {WHERE}: 1.26.4, 2.2.6 → 2.2.6; restore the approved one, or approve the change by "
        "making a new baseline")


def test_ecosystems_are_told_apart() -> None:
    conda = Package(name="numpy", version="2.2.6", ecosystem="conda", pypi_name="numpy")
    outcome = judge(env(package("numpy", "2.2.6")), baseline(conda))
    assert [rule for rule, *_ in found(outcome)] == ["drift.removed", "drift.added"]


def test_unpinned_packages_compare_by_specifier() -> None:
    outcome = judge(env(package("requests", None, specifier=">=2.32")),
                    baseline(package("requests", None, specifier=">=2.31")))
    assert found(outcome)[0][3].startswith(f"requests changed since {WHERE}: (>=2.31) → (>=2.32); ")


def test_no_baseline_blocks_when_packages_are_forbidden_to_drift() -> None:
    outcome = judge(env(package("a")), None)
    assert found(outcome) == [
        ("drift", None, Status.BLOCKING,
         "no --baseline given, so whether packages were added or removed or changed since approval cannot be judged: "
         "pass --baseline with the approved result.json (gate check --out) or lockfile")]


def test_no_baseline_is_a_note_when_nothing_is_forbidden() -> None:
    outcome = judge(env(package("a")), None, forbid=frozenset())
    assert outcome == Outcome(notes=("Drift: no --baseline given; the packages were not compared with an approved "
                                     "environment.",))


def test_baseline_for_another_target_is_noted() -> None:
    other = Environment.create(source="b.json", kind="result.json", target=Target(python="3.12"), packages=[])
    outcome = judge(env(), other)
    assert outcome.notes == ("Drift: the baseline was judged for another target (python 3.12 then, 3.11 now).",)


# --- modified files -------------------------------------------------------------------

SITE = "lib/python3.11/site-packages"


def test_modified_files_are_grouped_per_distribution() -> None:
    files = (
        *(ModifiedFile(package="requests", path=f"{SITE}/requests/m{i}.py", problem="hash mismatch") for i in range(7)),
        ModifiedFile(package="six", path=f"{SITE}/six.py", problem="missing"),
        ModifiedFile(package="six", path=f"{SITE}/six-1.17.0.dist-info/RECORD",
                     problem="not verifiable: RECORD line 3 has 2 fields, not 3"),
    )
    outcome = judge(env(package("requests", "2.32.3"), package("six", "1.17.0")),
                    baseline(package("requests", "2.32.3"), package("six", "1.17.0")), modified=files)
    listed = ", ".join(f"{SITE}/requests/m{i}.py (hash mismatch)" for i in range(5))
    assert found(outcome) == [
        ("drift.modified_files", "requests", Status.BLOCKING,
         f"7 installed file(s) of requests no longer match its RECORD: {listed}, and 2 more; reinstall requests so "
         "that its files are the released ones, and find out who changed them"),
        ("drift.modified_files", "six", Status.BLOCKING,
         f"1 installed file(s) of six no longer match its RECORD, and 1 cannot be verified: "
         f"{SITE}/six-1.17.0.dist-info/RECORD (not verifiable: RECORD line 3 has 2 fields, not 3), "
         f"{SITE}/six.py (missing); reinstall six so that its files are the released ones, and find out who changed "
         "them"),
    ]


def test_distributions_that_cannot_be_verified() -> None:
    files = (ModifiedFile(package="legacy", path=f"{SITE}/legacy.egg-info",
                          problem="not verifiable: an .egg-info install records no file hashes"),)
    outcome = judge(env(package("legacy")), baseline(package("legacy")), modified=files,
                    forbid=frozenset({"added"}))
    assert found(outcome) == [
        ("drift.modified_files", "legacy", Status.WARNING,
         f"installed files of legacy cannot be verified against its RECORD: {SITE}/legacy.egg-info (not verifiable: "
         "an .egg-info install records no file hashes); reinstall legacy with an installer that writes a complete "
         "RECORD (pip, uv)")]


def test_unverified_installed_files_block_when_forbidden() -> None:
    outcome = judge(env(package("a")), baseline(package("a")), modified=None)
    assert found(outcome) == [
        ("drift.modified_files", None, Status.BLOCKING,
         "the installed files were not verified against their RECORD, so edits after installation cannot be ruled "
         "out: run gate check --env on the environment directory")]


def test_a_lockfile_has_no_installed_files() -> None:
    outcome = judge(env(package("a"), kind="uv.lock"), baseline(package("a")), modified=None)
    assert outcome == Outcome(notes=("Drift: the input is a lockfile, so there are no installed files to verify "
                                     "(modified_files).",))
