from __future__ import annotations

import pytest

from gate.errors import InputError
from gate.model import Environment, Location, Package, Target
from gate.sources.selection import select


def pkg(name: str, marker: str | None = None, group: str = "runtime", version: str = "1.0") -> Package:
    return Package(name=name, version=version, pypi_name=name, marker=marker, group=group,
                   location=Location(file="uv.lock", line=7))


ENV = Environment.create(source="uv.lock", kind="uv.lock", target=Target(), packages=[
    pkg("numpy", 'python_full_version < "3.12"', version="1.26.4"),
    pkg("numpy", 'python_full_version >= "3.12"', version="2.2.0"),
    pkg("pywin32", 'sys_platform == "win32"'),
    pkg("uvloop", 'sys_platform != "win32" and platform_python_implementation == "CPython"'),
    pkg("requests"),
    pkg("pytest", group="dev"),
    pkg("sphinx", group="docs"),
    pkg("colorama", '"dev" in dependency_groups'),
    pkg("onnxruntime-gpu", '"gpu" in extras', group="optional:gpu"),
])


def names(target: Target | None, groups: tuple[str, ...] = ()) -> list[tuple[str, str | None]]:
    return [(p.name, p.version) for p in select(ENV, target=target, groups=groups).environment.packages]


def test_no_target_keeps_the_union_and_says_so() -> None:
    selection = select(ENV, target=None)
    # colorama's marker asks for the dev group, which is not selected
    assert [(p.name, p.version) for p in selection.environment.packages] == [
        ("numpy", "1.26.4"), ("numpy", "2.2.0"), ("pywin32", "1.0"), ("requests", "1.0"),
        ("uvloop", "1.0")]
    assert selection.environment.notes == (
        "No target given: every platform and Python version the input covers was judged (use --target "
        "python=X.Y,platform=NAME to judge one).",
        "Groups not judged: dev (1), docs (1), optional:gpu (1); name them with --groups to include them.")


def test_full_target_selects_one_branch() -> None:
    assert names(Target(python="3.11", platform="linux_x86_64")) == [
        ("numpy", "1.26.4"), ("requests", "1.0"), ("uvloop", "1.0")]
    assert names(Target(python="3.12", platform="win_amd64")) == [
        ("numpy", "2.2.0"), ("pywin32", "1.0"), ("requests", "1.0")]


def test_partial_target_is_the_union_over_the_open_dimension() -> None:
    assert names(Target(platform="linux_x86_64")) == [
        ("numpy", "1.26.4"), ("numpy", "2.2.0"), ("requests", "1.0"), ("uvloop", "1.0")]


def test_groups_are_opt_in_and_reach_dependency_group_markers() -> None:
    assert names(Target(python="3.11", platform="linux_x86_64"), groups=("dev",)) == [
        ("colorama", "1.0"), ("numpy", "1.26.4"), ("pytest", "1.0"), ("requests", "1.0"), ("uvloop", "1.0")]


def test_extras_are_opt_in_through_optional_groups() -> None:
    assert ("onnxruntime-gpu", "1.0") not in names(Target(python="3.11", platform="linux_x86_64"))
    assert ("onnxruntime-gpu", "1.0") in names(Target(python="3.11", platform="linux_x86_64"),
                                               groups=("optional:gpu",))


def test_selection_notes_what_the_target_left_out() -> None:
    selection = select(ENV, target=Target(python="3.11", platform="linux_x86_64"))
    assert selection.excluded_by_target == 3
    assert selection.environment.target == Target(python="3.11", platform="linux_x86_64")
    assert selection.environment.notes[0] == ("Target python=3.11, platform=linux_x86_64: 3 package(s) whose "
                                              "markers exclude it were left out.")


def test_the_host_never_leaks_into_the_evaluation() -> None:
    # the machine running the tests is linux/CPython; a windows target must not see it
    assert ("uvloop", "1.0") not in names(Target(python="3.11", platform="win_amd64"))


def test_invalid_marker_is_an_input_error() -> None:
    broken = Environment.create(source="x", kind="uv.lock", target=Target(),
                                packages=[pkg("a", "python_version >>> 3")])
    with pytest.raises(InputError) as caught:
        select(broken, target=None)
    # one line (found by benchmarks/fuzz_inputs.py: packaging's marker and caret lines came along)
    assert str(caught.value) == ("uv.lock:7: a: invalid environment marker 'python_version >>> 3' (Expected a "
                                 "marker variable or quoted string)")
