"""Targets: the interpreter and platform an environment is promoted to, and the marker
variables each platform implies. Shared by the CLI (``--target``), the policy (``target``)
and the selection of lockfile entries."""

from __future__ import annotations

import re
from collections.abc import Mapping

from gate.model import Target

# The marker variables of each platform the gate knows; keys are the spellings --target takes.
PLATFORMS: Mapping[str, Mapping[str, str]] = {
    "linux_x86_64": {"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64",
                     "os_name": "posix"},
    "linux_aarch64": {"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "aarch64",
                      "os_name": "posix"},
    "macosx_x86_64": {"sys_platform": "darwin", "platform_system": "Darwin", "platform_machine": "x86_64",
                      "os_name": "posix"},
    "macosx_arm64": {"sys_platform": "darwin", "platform_system": "Darwin", "platform_machine": "arm64",
                     "os_name": "posix"},
    "win_amd64": {"sys_platform": "win32", "platform_system": "Windows", "platform_machine": "AMD64",
                  "os_name": "nt"},
    "win_arm64": {"sys_platform": "win32", "platform_system": "Windows", "platform_machine": "ARM64",
                  "os_name": "nt"},
}
PLATFORM_ALIASES = {"linux-64": "linux_x86_64", "linux-aarch64": "linux_aarch64", "osx-64": "macosx_x86_64",
                    "osx-arm64": "macosx_arm64", "win-64": "win_amd64", "darwin_arm64": "macosx_arm64",
                    "darwin_x86_64": "macosx_x86_64", "manylinux_x86_64": "linux_x86_64"}
# CPython releases a lockfile of today may still target; the union when --target names none.
PYTHONS = ("3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14", "3.15")
_PYTHON = re.compile(r"^3\.\d{1,2}(\.\d{1,3})?$")


def parse_target(text: str) -> Target:
    """``python=3.11,platform=linux_x86_64`` (either part optional) into a Target."""
    python = platform = None
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not value:
            raise ValueError(f"{part!r} is not KEY=VALUE")
        if key == "python":
            if not _PYTHON.match(value):
                raise ValueError(f"python={value!r} is not a CPython version like 3.11 or 3.11.7")
            python = value
        elif key == "platform":
            platform = normalise_platform(value)
        else:
            raise ValueError(f"unknown key {key!r} (python, platform)")
    return Target(python=python, platform=platform)


def normalise_platform(value: str) -> str:
    name = PLATFORM_ALIASES.get(value, value)
    if name not in PLATFORMS:
        raise ValueError(f"platform {value!r} is not one of {', '.join(PLATFORMS)}")
    return name


def platform_of_wheel_tag(platform_tag: str) -> str | None:
    """The gate platform a wheel's platform tag was built for; None for ``any`` and for tags
    that fit several (``universal2``) or none of the gate's platforms."""
    tag = platform_tag.lower()
    if tag.startswith(("manylinux", "musllinux", "linux")):
        for machine in ("x86_64", "aarch64"):
            if tag.endswith("_" + machine):
                return f"linux_{machine}"
        return None
    if tag.startswith("macosx"):
        for machine in ("x86_64", "arm64"):
            if tag.endswith("_" + machine):
                return f"macosx_{machine}"
        return None
    return tag if tag in ("win_amd64", "win_arm64") else None


def marker_environments(target: Target, *, extras: frozenset[str] = frozenset(),
                        dependency_groups: frozenset[str] = frozenset()) -> tuple[dict[str, str | frozenset[str]], ...]:
    """Every complete marker environment the target allows: one per Python version and
    platform it leaves open (the same expansion the selection of lockfile entries makes)."""
    pythons = (target.python,) if target.python else PYTHONS
    platforms = (target.platform,) if target.platform else tuple(PLATFORMS)
    result: list[dict[str, str | frozenset[str]]] = []
    for python in pythons:
        major_minor = ".".join(python.split(".")[:2])
        full = python if python.count(".") == 2 else f"{python}.0"
        for platform in platforms:
            environment: dict[str, str | frozenset[str]] = dict(PLATFORMS[platform])
            environment.update({
                "python_version": major_minor, "python_full_version": full, "implementation_name": "cpython",
                "implementation_version": full, "platform_python_implementation": "CPython",
                "platform_release": "", "platform_version": "", "extra": "",
                "extras": extras, "dependency_groups": dependency_groups,
                "_python": python, "_platform": platform,  # for the report; no marker can name them
            })
            result.append(environment)
    return tuple(result)
