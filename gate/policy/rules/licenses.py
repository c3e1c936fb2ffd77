"""``licenses``: every package's licence must be one the policy accepts.

Detection (:mod:`gate.licenses.detect`) turns raw metadata into an SPDX expression or an honest
"unresolved"; judgement (:mod:`gate.licenses.judge`) applies allow, deny and denied ScanCode
categories with real AND/OR semantics. An override in the policy replaces what the metadata
says, for packages whose metadata is wrong. Each violation quotes the raw metadata it rests on,
so a reviewer can see why without opening the package."""

from __future__ import annotations

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from gate.licenses import Acceptance, Detected, detect, from_override, judge
from gate.model import LicenseFields, Package, RegistryFacts, Status, Violation
from gate.policy.model import LicenseOverride, LicenseRules, OnUnknownLicense
from gate.policy.rules.base import Context, Outcome


class LicenseRule:
    section = "licenses"

    def check(self, context: Context) -> Outcome:
        rules = context.policy.licenses
        if rules is None:
            return Outcome()
        served = _served_licenses(context.registry)
        violations: list[Violation] = []
        resolved = unresolved = 0
        for package in context.environment.packages:
            detected = self._detect(package, rules, served)
            if detected.expression is None:
                unresolved += 1
                status = _unknown_status(rules)
                if status is not None:
                    violations.append(Violation(
                        rule="licenses.unknown", package=package, status=status,
                        detail=f"licence unknown: {detected.reason or 'no licence metadata'}"
                               f"{_quote(detected)}; add an override to the policy if you know it"))
                continue
            resolved += 1
            judgement = judge(detected.expression, allow=rules.allow, deny=rules.deny,
                              deny_categories=rules.deny_categories)
            if judgement.status is Acceptance.REJECTED:
                violations.append(Violation(rule="licenses", package=package, status=Status.BLOCKING,
                                            detail=judgement.detail + _quote(detected)))
            elif judgement.status is Acceptance.UNKNOWN:
                status = _unknown_status(rules)
                if status is not None:
                    violations.append(Violation(rule="licenses.unknown", package=package, status=status,
                                                detail=judgement.detail + _quote(detected)))
        note = f"Licences: {resolved} resolved, {unresolved} unknown, of {len(context.environment.packages)} packages."
        return Outcome(violations=tuple(violations), notes=(note,))

    @staticmethod
    def _detect(package: Package, rules: LicenseRules, served: dict[tuple[str, str], LicenseFields]) -> Detected:
        override = _override_for(package, rules.overrides)
        if override is not None:
            return from_override(override.license)
        fields = package.license
        if fields == LicenseFields() and package.version is not None:
            # a lockfile says nothing of licences: use the metadata the index serves, when fetched
            fields = served.get((package.pypi_name or package.name, package.version), fields)
        return detect(fields, ecosystem=package.ecosystem)


def _unknown_status(rules: LicenseRules) -> Status | None:
    return {OnUnknownLicense.BLOCK: Status.BLOCKING, OnUnknownLicense.WARN: Status.WARNING,
            OnUnknownLicense.ALLOW: None}[rules.unknown]


def _quote(detected: Detected) -> str:
    if detected.origin is None or detected.raw is None:
        return ""
    return f" (from {detected.origin.value}: {detected.raw!r})"


def _override_for(package: Package, overrides: tuple[LicenseOverride, ...]) -> LicenseOverride | None:
    names = {canonicalize_name(package.name), *([package.pypi_name] if package.pypi_name else [])}
    for override in overrides:
        if override.package not in names:
            continue
        if override.versions is None:
            return override
        if package.version is None:
            continue
        try:
            version = Version(package.version)
        except InvalidVersion:
            continue
        if override.versions.contains(version, prereleases=True):
            return override
    return None


def _served_licenses(registry: RegistryFacts | None) -> dict[tuple[str, str], LicenseFields]:
    if registry is None:
        return {}
    return {(r.name, r.version): r.license for r in registry.releases if r.license is not None}
