from __future__ import annotations

import itertools
import os
import platform
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from gate.model import Environment, Location, Package, Status, Target
from gate.policy.model import ConsistencyRules, Policy
from gate.policy.rules.base import Context, Outcome
from gate.policy.rules.consistency import ConsistencyRule, _gating_extra, _parse
from gate.sources import read_environment
from gate.sources.selection import select
from gate.targets import marker_environments
from tests.factories import NOW, package
from tests.sources.helpers import CURRENT, OLD, OLD_SITE, add_dist

LINUX = Target(python="3.11", platform="linux_x86_64")


def policy(*, enforce: bool = True, section: bool = True) -> Policy:
    return Policy(path="p.yml", digest="sha256:0", effective={},
                  consistency=ConsistencyRules(enforce=enforce) if section else None)


def judge(*packages: Package, target: Target = LINUX, kind: str = "venv", enforce: bool = True) -> Outcome:
    environment = Environment.create(source="/venv", kind=kind, target=target, packages=list(packages))
    context = Context(environment=environment, policy=policy(enforce=enforce), matches=(), database=None, now=NOW)
    return ConsistencyRule().check(context)


def details(outcome: Outcome) -> list[str]:
    return [violation.detail for violation in outcome.violations]


# --- requirements ---------------------------------------------------------------------


def test_conflict_names_both_sides_and_the_fix() -> None:
    outcome = judge(package("requests", "2.19.1", requires=("urllib3 (<1.24,>=1.21.1)", "idna")),
                    package("urllib3", "1.24.1"), package("idna", "2.7"))
    assert details(outcome) == [
        "requests 2.19.1 requires urllib3<1.24,>=1.21.1, but urllib3 1.24.1 is installed: move to a urllib3 release "
        "that satisfies it, or to a requests release that accepts urllib3 1.24.1"]
    (violation,) = outcome.violations
    assert violation.rule == "consistency"
    assert violation.status is Status.BLOCKING
    assert violation.package is not None and violation.package.name == "requests"


def test_missing_requirement() -> None:
    outcome = judge(package("requests", "2.19.1", requires=("idna<2.8,>=2.5", "certifi>=2017.4.17")),
                    package("certifi", "2018.4.16"))
    assert details(outcome) == [
        "requests 2.19.1 requires idna<2.8,>=2.5, which is missing: add idna to the environment"]


def test_warning_when_not_enforced() -> None:
    outcome = judge(package("a", requires=("b",)), enforce=False)
    assert [v.status for v in outcome.violations] == [Status.WARNING]


def test_no_section_no_check() -> None:
    environment = Environment.create(source="/venv", kind="venv", target=LINUX,
                                     packages=[package("a", requires=("b",))])
    context = Context(environment=environment, policy=policy(section=False), matches=(), database=None, now=NOW)
    assert ConsistencyRule().check(context) == Outcome()


def test_satisfied_requirements_pass() -> None:
    outcome = judge(
        package("app", requires=("Foo_Bar>=1", "torch==2.5.1", "beta>=1.0", "plain", "url @ https://example.com/u.whl")),
        package("foo-bar", "1.2"),
        package("torch", "2.5.1+cu121"),  # a local version satisfies ==2.5.1, as pip check says
        package("beta", "2.0rc1"),  # an installed pre-release satisfies >=1.0, as pip check says
        package("plain", "not a version"),  # no specifier: presence is enough
        package("url", "1.0"),
    )
    assert outcome == Outcome()


def test_names_are_compared_normalised_and_shown_as_written() -> None:
    outcome = judge(package("app", requires=("Foo_Bar>=1",)), package("foo-bar", "0.5"))
    assert details(outcome) == [
        "app 1.0 requires Foo_Bar>=1, but foo-bar 0.5 is installed: move to a foo-bar release that satisfies it, or "
        "to a app release that accepts foo-bar 0.5"]


def test_markers_are_evaluated_for_the_target() -> None:
    packages = (package("app", requires=('winonly; sys_platform == "win32"', 'old; python_version < "3.10"',
                                         'linuxonly>=2; sys_platform == "linux"')),
                package("linuxonly", "1.0"))
    assert details(judge(*packages)) == [
        "app 1.0 requires linuxonly>=2, but linuxonly 1.0 is installed: move to a linuxonly release that satisfies "
        "it, or to a app release that accepts linuxonly 1.0"]
    windows = judge(*packages, target=Target(python="3.11", platform="win_amd64"))
    assert details(windows) == ["app 1.0 requires winonly, which is missing: add winonly to the environment"]


def test_open_platform_reports_where_the_requirement_applies() -> None:
    outcome = judge(package("tqdm", "4.67.1", requires=('colorama; platform_system == "Windows"',)),
                    target=Target(python="3.11"))
    assert details(outcome) == [
        "tqdm 4.67.1 requires colorama, which is missing (for platform win_amd64, win_arm64: the target leaves the "
        "platform open): add colorama to the environment, or give the target's platform (--target) to judge only "
        "what you deploy to"]


def test_no_target_reports_the_pythons() -> None:
    outcome = judge(package("black", "24.1", requires=('tomli>=1.1.0; python_version < "3.11"',)), target=Target())
    assert details(outcome) == [
        "black 24.1 requires tomli>=1.1.0, which is missing (for python 3.8, 3.9, 3.10: the target leaves the python "
        "and platform open): add tomli to the environment, or give the target's python and platform (--target) to "
        "judge only what you deploy to"]


def test_undecidable_marker_is_taken_to_apply() -> None:
    outcome = judge(package("app", requires=('odd; platform_release >= "5.0"',)))
    assert details(outcome) == ["app 1.0 requires odd, which is missing: add odd to the environment"]


# --- extras ---------------------------------------------------------------------------


def test_extras_nobody_asked_for_are_not_checked() -> None:
    outcome = judge(package("requests", "2.19.1", requires=(
        "PySocks!=1.5.7,>=1.5.6; extra == 'socks'", 'win-inet-pton; sys_platform == "win32" and extra == "socks"')))
    assert outcome == Outcome()


def test_extras_are_followed_transitively() -> None:
    outcome = judge(
        package("app", requires=("requests[socks]>=2",)),
        package("requests", "2.19.1", requires=("PySocks!=1.5.7,>=1.5.6; extra == 'socks'",
                                                "urllib3[Secure]; extra == 'socks'",
                                                "chardet; extra == 'other'")),
        package("urllib3", "1.24.1", requires=("certifi; extra == 'secure'",
                                               "pyOpenSSL>=0.14; (python_version >= '3') and extra == 'secure'",
                                               "brotli; extra == 'brotli'")),
        package("certifi", "2018.4.16"),
    )
    assert details(outcome) == [
        "requests[socks] 2.19.1 requires PySocks!=1.5.7,>=1.5.6, which is missing: add pysocks to the environment",
        "urllib3[secure] 1.24.1 requires pyOpenSSL>=0.14, which is missing: add pyopenssl to the environment",
    ]


def test_an_extra_activated_only_on_another_platform_is_not_checked() -> None:
    outcome = judge(package("app", requires=('b[win]; sys_platform == "win32"',)),
                    package("b", requires=("pywin32; extra == 'win'",)))
    assert outcome == Outcome()


def test_extra_through_a_marker_that_holds_on_some_platforms() -> None:
    outcome = judge(package("app", requires=('b[win]; sys_platform == "win32"',)),
                    package("b", requires=("pywin32; extra == 'win'",)), target=Target(python="3.11"))
    assert details(outcome) == [
        "b[win] 1.0 requires pywin32, which is missing (for platform win_amd64, win_arm64: the target leaves the "
        "platform open): add pywin32 to the environment, or give the target's platform (--target) to judge only "
        "what you deploy to"]


def test_requirement_needed_by_the_package_and_an_extra_is_shown_without_the_extra() -> None:
    outcome = judge(package("app", requires=("b[x]",)), package("b", requires=("c", "c>=2; extra == 'x'")))
    assert details(outcome) == [
        "b 1.0 requires c, which is missing: add c to the environment",
        "b[x] 1.0 requires c>=2, which is missing: add c to the environment",
    ]


# --- what cannot be judged ------------------------------------------------------------


def test_requirement_that_is_not_pep508() -> None:
    outcome = judge(package("app", requires=("b >= 1.0 ;; nonsense",)))
    assert details(outcome) == [
        "app 1.0 declares the Requires-Dist 'b >= 1.0 ;; nonsense', which is not PEP 508 (Expected a marker "
        "variable or quoted string), so it cannot be checked: fix app's metadata or move to a release with valid "
        "metadata"]


def test_unparsable_installed_version_cannot_satisfy_a_specifier() -> None:
    outcome = judge(package("app", requires=("b>=1",)), package("b", "1.0-custom build"))
    assert details(outcome) == [
        "app 1.0 requires b>=1, but b has version '1.0-custom build', which is not PEP 440, so the requirement cannot "
        "be shown to hold: replace that b build with a PEP 440 release"]


def test_unpinned_locked_dependency_cannot_satisfy_a_specifier() -> None:
    outcome = judge(package("app", requires=("b>=1",)), package("b", None, specifier=">=0.5"), kind="uv.lock")
    assert details(outcome) == [
        "app 1.0 requires b>=1, but b is not pinned (>=0.5), so the requirement cannot be shown to hold: pin b"]


# --- lockfiles ------------------------------------------------------------------------


def test_lockfile_wording() -> None:
    outcome = judge(package("app", requires=("b>=2", "c")), package("b", "1.0"), kind="poetry.lock")
    assert details(outcome) == [
        "app 1.0 requires b>=2, but b 1.0 is locked: move to a b release that satisfies it, or to a app release "
        "that accepts b 1.0",
        "app 1.0 requires c, which is missing: add c to the lock",
    ]


def test_forked_lock_entries_meet_only_the_requirements_that_apply_with_them() -> None:
    old = package("numpy", "1.26.4", marker="python_version < '3.12'")
    new = package("numpy", "2.1.0", marker="python_version >= '3.12'")
    scipy = package("scipy", "1.11.0", requires=("numpy<2.0,>=1.21",))
    outcome = judge(old, new, scipy, target=Target(platform="linux_x86_64"), kind="uv.lock")
    assert details(outcome) == [
        "scipy 1.11.0 requires numpy<2.0,>=1.21, but numpy 2.1.0 is locked (for python 3.12, 3.13, 3.14, 3.15: the "
        "target leaves the python open): move to a numpy release that satisfies it, or to a scipy release that "
        "accepts numpy 2.1.0, or give the target's python (--target) to judge only what you deploy to"]
    assert judge(old, new, scipy, target=Target(python="3.11", platform="linux_x86_64"), kind="uv.lock") == Outcome()


def test_a_fork_missing_for_some_pythons_is_reported_for_those() -> None:
    only_old = package("numpy", "1.26.4", marker="python_version < '3.12'")
    outcome = judge(only_old, package("scipy", "1.11.0", requires=("numpy",)),
                    target=Target(python="3.12", platform="linux_x86_64"), kind="uv.lock")
    assert details(outcome) == ["scipy 1.11.0 requires numpy, which is missing: add numpy to the lock"]


def test_conda_requirements_are_skipped_and_conda_packages_satisfy_pypi_ones() -> None:
    torch = Package(name="pytorch", version="2.5.1", ecosystem="conda", pypi_name="torch",
                    requires=("python >=3.11,<3.12.0a0", "libtorch 2.5.1.*"))
    lightning = package("lightning", "2.4.0", requires=("torch>=2.1", "numpy"))
    outcome = judge(torch, lightning, kind="conda-lock")
    assert details(outcome) == ["lightning 2.4.0 requires numpy, which is missing: add numpy to the lock"]
    assert outcome.notes == ("Consistency: the dependencies of 1 conda package(s) are conda match specs, which only "
                             "a conda solver can judge; they were not checked.",)


def test_input_without_a_dependency_graph_says_so() -> None:
    outcome = judge(package("a"), package("b"), kind="requirements")
    assert outcome.notes == ("Consistency: the input (requirements) carries no dependency graph, so requirements "
                             "between packages were not checked.",)
    assert judge(package("a"), package("b")).notes == ()  # a venv whose packages need nothing


# --- duplicates -----------------------------------------------------------------------


def test_two_installed_versions_of_one_project() -> None:
    first = Package(name="six", version="1.16.0", location=Location(file="site-packages/six-1.16.0.dist-info"))
    second = Package(name="six", version="1.17.0", location=Location(file="site-packages/six-1.17.0.dist-info"))
    assert details(judge(first, second)) == [
        "2 entries claim six: 1.16.0 (site-packages/six-1.16.0.dist-info), 1.17.0 "
        "(site-packages/six-1.17.0.dist-info); which one Python imports depends on the files, not the metadata: "
        "uninstall six until none is left, then install the one version wanted"]


def test_two_lockfiles_pinning_one_version_twice_agree() -> None:
    assert judge(package("six", "1.16.0"), package("six", "1.16.0", group="dev"), kind="requirements").violations == ()


# --- the fast paths agree with packaging ----------------------------------------------


def asset_requirement_lines() -> list[str]:
    lines: list[str] = []
    for environment in (read_environment(OLD), read_environment(CURRENT)):
        lines.extend(line for p in environment.packages for line in p.requires)
    lines.extend([
        "a; extra == 'x'", 'a ; extra=="x"', "a; (python_version < '3.11' or os_name == 'nt') and extra == 'x'",
        "a; python_version < '3.11' or extra == 'x'",
        "a; (os_name == 'nt') or (sys_platform == 'linux') and extra == 'x'",
        "a; extra == 'x' or extra == 'y'", "a; extra == 'test-extra'", "a @ https://h/p.whl ; extra == 'x'",
        "a[b,c] (>=1,<2) ; sys_platform == 'linux'", "A.B-c_d>=1.0.post1", "a; extra != 'x'", "a;extra=='x'",
        "a; os_name == 'nt' and extra == 'x'", "a; extra == \"x\" and os_name == 'nt'",
    ])
    return lines


def test_gating_extra_is_sound() -> None:
    """Where the text is taken to show the gating extra, the marker holds for no other extra."""
    environments = marker_environments(Target())
    seen = 0
    for line in asset_requirement_lines():
        gate = _gating_extra(line)
        if gate is None:
            continue
        seen += 1
        marker = Requirement(line).marker
        assert marker is not None
        for environment, extra in itertools.product(environments, ("", "other", "x-y")):
            if extra != gate:
                assert not marker.evaluate({**environment, "extra": extra}, context="lock_file"), line
    assert seen >= 20


def test_fast_parse_agrees_with_packaging() -> None:
    for line in asset_requirement_lines():
        ours = _parse(line)
        theirs = Requirement(line)
        assert not isinstance(ours, str), line
        assert ours.name == canonicalize_name(theirs.name)
        assert ours.extras == {canonicalize_name(extra) for extra in theirs.extras}
        assert ours.wanted == f"{theirs.name}{'[' + ','.join(sorted(ours.extras)) + ']' if ours.extras else ''}" \
                              f"{theirs.specifier}"
        if theirs.marker is None:
            assert ours.marker is None
        else:
            assert ours.marker is not None and Marker(ours.marker) == theirs.marker


# --- against pip check ----------------------------------------------------------------

HOST_TARGETS = {("linux", "x86_64"): "linux_x86_64", ("linux", "aarch64"): "linux_aarch64",
                ("darwin", "x86_64"): "macosx_x86_64", ("darwin", "arm64"): "macosx_arm64",
                ("win32", "AMD64"): "win_amd64", ("win32", "ARM64"): "win_arm64"}
PIP_MISSING = re.compile(r"^(\S+) (\S+) requires (\S+), which is not installed\.$")
PIP_CONFLICT = re.compile(r"^(\S+) (\S+) has requirement .+, but you have (\S+) (\S+)\.$")
GATE = re.compile(r"^(\S+?)(?:\[[^\]]*\])? (\S+) requires ([A-Za-z0-9._-]+)\S*(?:, which is (missing)|, but )")


def host_target() -> Target:
    name = HOST_TARGETS.get((sys.platform, platform.machine()))
    if name is None:
        pytest.skip(f"no gate platform for {sys.platform} {platform.machine()}")
    return Target(python=f"{sys.version_info.major}.{sys.version_info.minor}", platform=name)


@pytest.fixture(scope="module")
def real_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real venv with pip (ensurepip, offline): built once, ~5 s."""
    root = tmp_path_factory.mktemp("pipcheck") / "venv"
    made = subprocess.run([sys.executable, "-m", "venv", str(root)], capture_output=True, text=True, timeout=300)
    if made.returncode != 0:
        pytest.skip(f"cannot make a venv with pip here: {made.stderr.strip()[-200:]}")
    return root


@pytest.fixture
def venv(real_venv: Path) -> Iterator[tuple[Path, Path]]:
    """The real venv and its site-packages; what a test adds there is removed afterwards."""
    (site,) = real_venv.glob("lib/python*/site-packages") or real_venv.glob("Lib/site-packages")
    before = set(site.iterdir())
    yield real_venv, site
    for path in set(site.iterdir()) - before:
        shutil.rmtree(path) if path.is_dir() else path.unlink()


def pip_check(root: Path) -> set[tuple[str, str, str]]:
    python = root / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    ran = subprocess.run([str(python), "-m", "pip", "check", "--disable-pip-version-check"], capture_output=True,
                         text=True, timeout=120)
    found: set[tuple[str, str, str]] = set()
    for line in ran.stdout.splitlines():
        if (missing := PIP_MISSING.match(line)) is not None:
            found.add((canonicalize_name(missing.group(1)), canonicalize_name(missing.group(3)), "missing"))
        elif (conflict := PIP_CONFLICT.match(line)) is not None:
            found.add((canonicalize_name(conflict.group(1)), canonicalize_name(conflict.group(3)), "conflict"))
        else:
            assert line == "No broken requirements found.", line
    assert ran.returncode == (1 if found else 0), ran.stderr
    return found


def gate_check(root: Path) -> set[tuple[str, str, str]]:
    environment = select(read_environment(root), target=host_target()).environment
    context = Context(environment=environment, policy=policy(), matches=(), database=None, now=NOW)
    found: set[tuple[str, str, str]] = set()
    for detail in details(ConsistencyRule().check(context)):
        parsed = GATE.match(detail)
        assert parsed is not None, detail
        found.add((parsed.group(1), canonicalize_name(parsed.group(3)),
                   "missing" if parsed.group(4) else "conflict"))
    return found


def test_same_as_pip_check_on_a_broken_venv(venv: tuple[Path, Path]) -> None:
    root, site = venv
    requirements = "".join(f"Requires-Dist: {line}\n" for line in (
        "conflicting>=2", "absent", "Foo_Bar (>=1.0)", "localver==1.0", "prerel>=1.0",
        'linuxish; sys_platform == "linux"', 'winonly; sys_platform == "win32"', 'old; python_version < "3.8"',
        "unused; extra == 'extra1'", 'cond-conflict<1; os_name == "posix"',
    ))
    add_dist(site, "broken-app", "1.0", extra=requirements)
    add_dist(site, "conflicting", "1.5")
    add_dist(site, "foo_bar", "0.9")
    add_dist(site, "localver", "1.0+cpu")
    add_dist(site, "prerel", "2.0rc1")
    add_dist(site, "cond-conflict", "1.2")
    add_dist(site, "second", "3.0", extra="Requires-Dist: conflicting<1.5,>=1\n")
    expected = {("broken-app", "conflicting", "conflict"), ("broken-app", "absent", "missing"),
                ("broken-app", "foo-bar", "conflict"), ("second", "conflicting", "conflict")}
    if sys.platform == "linux":  # the host's markers decide, for both
        expected.add(("broken-app", "linuxish", "missing"))
    if os.name == "posix":
        expected.add(("broken-app", "cond-conflict", "conflict"))
    assert pip_check(root) == expected
    assert gate_check(root) == expected


def test_following_extras_finds_more_than_pip_check(venv: tuple[Path, Path]) -> None:
    root, site = venv
    add_dist(site, "app", "1.0", extra="Requires-Dist: lib[socks]>=1\n")
    add_dist(site, "lib", "1.0", extra="Provides-Extra: socks\nRequires-Dist: pysocks; extra == 'socks'\n")
    assert pip_check(root) == set()  # pip check reads every distribution without extras
    assert gate_check(root) == {("lib", "pysocks", "missing")}


def test_same_as_pip_check_on_the_old_venv(venv: tuple[Path, Path]) -> None:
    root, site = venv
    for dist_info in OLD_SITE.glob("*.dist-info"):  # not gate-canary.pth: pip would run it
        shutil.copytree(dist_info, site / dist_info.name)
    expected = pip_check(root)
    assert expected == {("requests", "urllib3", "conflict")}
    assert gate_check(root) == expected


def test_same_as_pip_check_on_the_current_venv(venv: tuple[Path, Path]) -> None:
    root, site = venv
    for dist_info in (CURRENT / "lib" / "python3.11" / "site-packages").glob("*.dist-info"):
        shutil.copytree(dist_info, site / dist_info.name)
    assert pip_check(root) == gate_check(root) == set()


def test_same_as_pip_check_on_the_running_environment(tmp_path: Path) -> None:
    """The environment running these tests: real metadata of dozens of distributions."""
    ran = subprocess.run([sys.executable, "-m", "pip", "check", "--disable-pip-version-check"], capture_output=True,
                         text=True, timeout=120)
    if "No module named pip" in ran.stderr:
        pytest.skip("pip is not installed in the running environment")
    root = Path(sys.prefix)
    if not (root / "pyvenv.cfg").is_file():
        pytest.skip("the tests do not run in a virtualenv")
    assert pip_check(root) == gate_check(root)


def test_kernel_markers_are_taken_to_hold_but_extras_still_gate() -> None:
    outcome = judge(package("app", requires=("gated; platform_version < '1' and extra == 'x'",
                                             "literal; os_name == 'nt' or extra == 'platform_release'",
                                             "kernel; platform_release < '1' or platform.version == 'x'")))
    assert details(outcome) == ["app 1.0 requires kernel, which is missing: add kernel to the environment"]
