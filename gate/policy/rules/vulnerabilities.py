"""``vulnerabilities``: turn advisory matches into findings with a status.

One vulnerability is often published under several IDs (PYSEC, GHSA, CVE). Matches for one
package are merged when their ID sets overlap, so a reviewer sees each problem once, with
every alias, and a waiver written against any of those IDs covers it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from gate.model import (
    LEVEL_RANK,
    Advisory,
    Finding,
    Level,
    Match,
    Package,
    Severity,
    Status,
    Violation,
    Waiver,
)
from gate.policy.model import OnUnknown, VulnerabilityRules
from gate.policy.rules.base import Context, Outcome

# Which record ID names a merged finding: the most specific database first.
_ID_PREFERENCE = ("GHSA-", "PYSEC-", "MAL-", "OSV-", "CVE-")


def _id_rank(identifier: str) -> tuple[int, str]:
    for rank, prefix in enumerate(_ID_PREFERENCE):
        if identifier.startswith(prefix):
            return rank, identifier
    return len(_ID_PREFERENCE), identifier


def _version_key(text: str) -> tuple[int, Version | str]:
    try:
        return 0, Version(text)
    except InvalidVersion:
        return 1, text


def merge_matches(matches: Iterable[Match]) -> list[Match]:
    """Merge matches of one package whose advisories share an ID or alias (transitively)."""
    by_package: dict[Package, list[Match]] = defaultdict(list)
    for match in matches:
        by_package[match.package].append(match)
    merged: list[Match] = []
    for package, group in by_package.items():
        merged.extend(_merge_cluster(package, cluster) for cluster in _clusters(group))
    return merged


def _clusters(group: list[Match]) -> list[list[Match]]:
    """Union-find over shared IDs: records linked through any chain of aliases end up together."""
    parent = list(range(len(group)))

    def find(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    owner: dict[str, int] = {}
    for index, match in enumerate(group):
        for identifier in match.advisory.ids:
            if identifier in owner:
                parent[find(index)] = find(owner[identifier])
            else:
                owner[identifier] = index
    clusters: dict[int, list[Match]] = defaultdict(list)
    for index, match in enumerate(group):
        clusters[find(index)].append(match)
    return list(clusters.values())


def _merge_cluster(package: Package, cluster: list[Match]) -> Match:
    if len(cluster) == 1:
        return cluster[0]
    records = sorted((m.advisory for m in cluster), key=lambda a: _id_rank(a.id))
    primary = records[0]
    ids = {identifier for record in records for identifier in record.ids}
    severity = max((r.severity for r in records), key=_severity_key)
    fixed = sorted({v for r in records for v in r.fixed}, key=lambda v: (_version_key(v), v))
    uncertain = [m.uncertain for m in cluster if m.uncertain]
    advisory = Advisory(
        id=primary.id,
        aliases=tuple(sorted(ids - {primary.id})),
        summary=next((r.summary for r in records if r.summary), ""),
        severity=severity,
        fixed=tuple(fixed),
        malicious=any(r.malicious for r in records),
        withdrawn=None,
        modified=max((r.modified for r in records if r.modified), default=None),
        published=min((r.published for r in records if r.published), default=None),
        url=next((r.url for r in records if r.url), None),
    )
    # Uncertain only if no record gave a certain answer.
    return Match(advisory=advisory, package=package,
                 uncertain=uncertain[0] if len(uncertain) == len(cluster) else None)


def _names(package: Package) -> set[str]:
    """Names a policy entry may use for a package: its own (conda spells names its way) and its PyPI name."""
    return {canonicalize_name(package.name), *([package.pypi_name] if package.pypi_name else [])}


def _severity_key(severity: Severity) -> tuple[int, float]:
    return LEVEL_RANK[severity.level], severity.score if severity.score is not None else -1.0


class VulnerabilityRule:
    section = "vulnerabilities"

    def check(self, context: Context) -> Outcome:
        rules = context.policy.vulnerabilities
        if rules is None:
            return Outcome(notes=("Vulnerabilities were not checked: the policy has no `vulnerabilities` section.",))
        today = context.now.date()
        live_waivers = [w for w in rules.waivers if w.expires >= today]
        used: set[Waiver] = set()
        findings = []
        for match in merge_matches(context.matches):
            finding = self._judge(match, rules, live_waivers)
            if finding.waiver is not None:
                used.add(finding.waiver)
            findings.append(finding)
        violations = list(self._unpinned(context.environment.packages, rules))
        for waiver in rules.waivers:
            scope = f" for {waiver.package}" if waiver.package else ""
            if waiver.expires < today:
                violations.append(Violation(
                    rule="vulnerabilities.waivers", status=Status.BLOCKING,
                    detail=f"waiver for {waiver.id}{scope} expired on {waiver.expires.isoformat()} "
                           f"(owner {waiver.owner}): renew it or fix the package"))
            elif waiver not in used:
                violations.append(Violation(
                    rule="vulnerabilities.waivers", status=Status.WARNING,
                    detail=f"waiver for {waiver.id}{scope} matched no finding: remove it"))
        findings.sort(key=lambda f: (f.package.name, f.package.version or "", f.advisory.id))
        return Outcome(findings=tuple(findings), violations=tuple(violations))

    @staticmethod
    def _judge(match: Match, rules: VulnerabilityRules, waivers: Sequence[Waiver]) -> Finding:
        advisory = match.advisory
        level = advisory.severity.level
        if advisory.malicious:
            # Malicious code is not a risk to accept: no waiver applies.
            return Finding(advisory=advisory, package=match.package, status=Status.BLOCKING,
                           uncertain=match.uncertain)
        if match.uncertain is not None and rules.uncertain_match is OnUnknown.BLOCK:
            status = Status.BLOCKING
        elif level is Level.UNKNOWN:
            status = Status.BLOCKING if rules.unknown_severity is OnUnknown.BLOCK else Status.WARNING
        else:
            status = Status.BLOCKING if LEVEL_RANK[level] >= LEVEL_RANK[rules.block_at] else Status.WARNING
        ids = {identifier.upper() for identifier in advisory.ids}
        for waiver in waivers:
            if waiver.id.upper() in ids and (waiver.package is None or waiver.package in _names(match.package)):
                return Finding(advisory=advisory, package=match.package, status=Status.WAIVED,
                               waiver=waiver, uncertain=match.uncertain)
        return Finding(advisory=advisory, package=match.package, status=status, uncertain=match.uncertain)

    @staticmethod
    def _unpinned(packages: Iterable[Package], rules: VulnerabilityRules) -> Iterable[Violation]:
        status = Status.BLOCKING if rules.uncertain_match is OnUnknown.BLOCK else Status.WARNING
        for package in packages:
            if package.pypi_name is not None and package.version is None:
                yield Violation(rule="vulnerabilities.unpinned", package=package, status=status,
                                detail=f"not pinned ({package.specifier or 'any version'}): advisories cannot be "
                                       "matched against a range of versions")
