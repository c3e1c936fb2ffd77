"""Choose what applies to one target: evaluate each package's marker and drop the groups the
caller did not ask for.

Readers return everything a lockfile describes (every platform, Python version and group)
and put each package's condition in ``Package.marker``, as PEP 508 text; conda platforms are
written as markers too. So one mechanism serves every format.

A target may be partial or absent. A dimension the target leaves open is judged as the
union over every value we know for it: with no platform, a package for any platform is
kept; with no target at all, the whole lockfile is judged, and the report says so. Keeping
too much can only add findings; dropping what might run would be a silent pass.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache

from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName

from gate.errors import InputError
from gate.model import Environment, Package, Target
from gate.targets import marker_environments

RUNTIME = "runtime"


@cache
def _marker(text: str) -> Marker:
    return Marker(text)


def applies(package: Package, environments: Iterable[Mapping[str, str | frozenset[str]]]) -> bool:
    """Whether the package's marker holds in any of the environments."""
    if package.marker is None:
        return True
    try:
        marker = _marker(package.marker)
    except InvalidMarker as error:
        where = package.location.file if package.location else None
        problem = str(error).splitlines()[0]  # packaging adds the marker and a caret on further lines
        raise InputError(f"{package.name}: invalid environment marker {package.marker!r} ({problem})",
                         where=where, line=package.location.line if package.location else None) from None
    for environment in environments:
        try:
            if marker.evaluate(dict(environment), context="lock_file"):
                return True
        except (UndefinedComparison, UndefinedEnvironmentName):
            return True  # cannot be decided for this target: keep it, fail closed
    return False


@dataclass(frozen=True, kw_only=True, slots=True)
class Selection:
    environment: Environment
    excluded_by_target: int
    excluded_groups: tuple[tuple[str, int], ...]


def select(environment: Environment, *, target: Target | None, groups: Iterable[str] = ()) -> Selection:
    """The packages that apply to ``target``, in the runtime group or one named in ``groups``."""
    chosen_groups = frozenset({RUNTIME, *groups})
    wanted_target = target or Target()
    extras = frozenset(g.removeprefix("optional:") for g in chosen_groups if g.startswith("optional:"))
    dependency_groups = frozenset(g for g in chosen_groups if g != RUNTIME and not g.startswith("optional:"))
    environments = marker_environments(wanted_target, extras=extras, dependency_groups=dependency_groups)
    kept: list[Package] = []
    by_target = 0
    by_group: dict[str, int] = {}
    for package in environment.packages:
        if package.group not in chosen_groups:
            by_group[package.group] = by_group.get(package.group, 0) + 1
        elif applies(package, environments):
            kept.append(package)
        else:
            by_target += 1
    notes = list(environment.notes)
    if wanted_target.python is None and wanted_target.platform is None:
        if any(p.marker for p in environment.packages):
            notes.append("No target given: every platform and Python version the input covers was judged "
                         "(use --target python=X.Y,platform=NAME to judge one).")
    else:
        described = ", ".join(f"{k}={v}" for k, v in (("python", wanted_target.python),
                                                      ("platform", wanted_target.platform)) if v)
        notes.append(f"Target {described}: {by_target} package(s) whose markers exclude it were left out.")
    if by_group:
        listed = ", ".join(f"{name} ({count})" for name, count in sorted(by_group.items()))
        notes.append(f"Groups not judged: {listed}; name them with --groups to include them.")
    selected = Environment.create(
        source=environment.source, kind=environment.kind,
        # What the caller leaves open and the input knows (a venv's Python) is kept.
        target=Target(python=wanted_target.python or environment.target.python,
                      platform=wanted_target.platform or environment.target.platform),
        packages=kept)
    return Selection(environment=dataclasses.replace(selected, notes=tuple(notes)),
                     excluded_by_target=by_target, excluded_groups=tuple(sorted(by_group.items())))
