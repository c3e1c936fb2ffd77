"""``packages.deny``: packages (or versions of them) that must never be promoted."""

from __future__ import annotations

from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from gate.model import Status, Violation
from gate.policy.model import DeniedPackage
from gate.policy.rules.base import Context, Outcome


class DenyRule:
    section = "packages"

    def check(self, context: Context) -> Outcome:
        rules = context.policy.packages
        if rules is None or not rules.deny:
            return Outcome()
        violations: list[Violation] = []
        by_name: dict[str, list[DeniedPackage]] = {}
        for entry in rules.deny:
            by_name.setdefault(entry.name, []).append(entry)
        for package in context.environment.packages:
            names = {canonicalize_name(package.name), *([package.pypi_name] if package.pypi_name else [])}
            for entry in (entry for name in sorted(names) for entry in by_name.get(name, ())):
                detail = self._judge(package.version, package.specifier, entry.versions)
                if detail is not None:
                    violations.append(Violation(rule="packages.deny", package=package, status=Status.BLOCKING,
                                                detail=f"{detail}: {entry.reason}"))
        return Outcome(violations=tuple(violations))

    @staticmethod
    def _judge(version: str | None, specifier: str | None, denied: SpecifierSet | None) -> str | None:
        """Why the package is denied, or None. Fails closed on what cannot be compared."""
        if denied is None:
            return "denied in every version"
        if version is None:
            return f"denied for {denied}, and the version is not pinned ({specifier or 'any'})"
        try:
            parsed = Version(version)
        except InvalidVersion:
            return f"denied for {denied}, and version {version!r} is not PEP 440 so cannot be shown to be outside it"
        if denied.contains(Version(parsed.public), prereleases=True):
            return f"version {version} is denied ({denied})"
        return None
