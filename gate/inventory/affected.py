"""``gate affected``: which environments carry an advisory (by any of its IDs) or a package.

One indexed query fetches the candidate rows (every package of the asked name, in each environment's
newest record or in every record); versions are then judged in Python, where PEP 440 and OSV ranges
are: the advisory's own affected entries (:func:`gate.advisories.match.entries_affect`, the same
judgement a check makes) or the asked specifier. A version neither can judge (unpinned, or not PEP 440)
is listed as *uncertain*, never dropped: the question is asked in an emergency, and a silent miss is
the costly answer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from gate.advisories.match import entries_affect
from gate.advisories.osv import AffectedPackage, OsvRecord
from gate.errors import InputError
from gate.inventory.store import Carrier, Inventory


@dataclass(frozen=True, kw_only=True, slots=True)
class Hit:
    """One package of one environment's record that the query matches."""

    carrier: Carrier
    advisories: tuple[str, ...]  # the advisory IDs that affect it (ID queries)
    uncertain: str | None  # why the match is not exact, when it is not

    def document(self) -> dict[str, Any]:
        c = self.carrier
        return {
            "repository": c.identity.repository, "stage": c.identity.stage, "environment": c.identity.name,
            "commit": c.commit, "checked_at": c.checked_at, "decision": c.decision, "record": c.digest,
            "newest": c.newest, "package": c.name, "version": c.version, "specifier": c.specifier,
            "ecosystem": c.ecosystem, "advisories": list(self.advisories), "uncertain": self.uncertain,
        }

    @property
    def pin(self) -> str:
        c = self.carrier
        return f"{c.name}=={c.version}" if c.version is not None else f"{c.name} {c.specifier or '(unpinned)'}"


@dataclass(frozen=True, kw_only=True, slots=True)
class Answer:
    query: str
    kind: str  # "advisory" or "package"
    advisories: tuple[dict[str, Any], ...]  # for an advisory query: each record found, with its ranges
    hits: tuple[Hit, ...]
    notes: tuple[str, ...] = ()

    @property
    def environments(self) -> int:
        return len({hit.carrier.identity for hit in self.hits})

    def document(self) -> dict[str, Any]:
        return {"query": self.query, "kind": self.kind, "advisories": list(self.advisories),
                "environments": self.environments, "matches": [hit.document() for hit in self.hits],
                "notes": list(self.notes)}


def looks_like_advisory_id(text: str) -> bool:
    """``GHSA-...``, ``CVE-2024-1234``, ``PYSEC-...``, ``MAL-...``, ``OSV-...``: a scheme that PyPI advisories
    use, a dash, and a rest with a digit and no version operator. A package name rarely starts so
    (``scikit-learn`` does not); one that does is found as ``NAME>=0``."""
    head, dash, rest = text.strip().partition("-")
    return bool(dash and head.upper() in _SCHEMES and any(c.isdigit() for c in rest)
                and not any(c in rest for c in "=<>!~ ,;[@"))


_SCHEMES = frozenset({"GHSA", "CVE", "PYSEC", "MAL", "OSV", "GSD"})


def by_advisory(inventory: Inventory, records: Sequence[OsvRecord], *, query: str, all_records: bool,
                withdrawn: tuple[str, str] | None = None) -> Answer:
    """The environments carrying a version that one of ``records`` (the advisory under any ID) affects."""
    entries: dict[str, list[AffectedPackage]] = {}
    owners: dict[str, list[tuple[str, AffectedPackage]]] = {}
    for record in records:
        for entry in record.affected:
            entries.setdefault(entry.name, []).append(entry)
            owners.setdefault(entry.name, []).append((record.advisory.id, entry))
    hits: list[Hit] = []
    for carrier in inventory.carriers(pypi_names=sorted(entries), all_records=all_records):
        name = carrier.pypi_name or ""
        if carrier.version is None:
            hits.append(Hit(carrier=carrier, advisories=tuple(sorted({i for i, _ in owners[name]})),
                            uncertain=f"unpinned ({carrier.specifier or 'no specifier'}): may resolve to an "
                                      "affected version"))
            continue
        ids = []
        uncertain = None
        for identifier, entry in owners[name]:
            result = entries_affect(carrier.version, [entry])
            if result.affected:
                ids.append(identifier)
                uncertain = uncertain or result.uncertain
        if ids:
            hits.append(Hit(carrier=carrier, advisories=tuple(sorted(set(ids))), uncertain=uncertain))
    notes = []
    if withdrawn is not None:
        notes.append(f"{query} was withdrawn ({withdrawn[0]}, {withdrawn[1]}): it affects nothing")
    return Answer(query=query, kind="advisory", advisories=tuple(_advisory_document(r) for r in records),
                  hits=_sorted(hits), notes=tuple(notes))


def _advisory_document(record: OsvRecord) -> dict[str, Any]:
    advisory = record.advisory
    return {
        "id": advisory.id, "aliases": list(advisory.aliases), "summary": advisory.summary,
        "severity": advisory.severity.level.value, "fixed_in": list(advisory.fixed),
        "affected": [{"package": entry.name,
                      "ranges": [[{kind: version} for kind, version in events] for events in entry.ranges],
                      "versions": list(entry.versions)} for entry in record.affected],
    }


def parse_package_query(text: str) -> tuple[str, SpecifierSet]:
    """``NAME``, ``NAME==VERSION`` or ``NAME<SPEC>`` (PEP 508 without extras, markers or URL)."""
    try:
        requirement = Requirement(text.strip())
    except InvalidRequirement as error:
        raise InputError(f"not an advisory ID or a package NAME[==VERSION | SPECIFIER]: {str(error).splitlines()[0]}",
                         where=text) from None
    if requirement.extras or requirement.marker is not None or requirement.url:
        raise InputError("give a package name and a version specifier only (no extras, markers or URL)", where=text)
    return canonicalize_name(requirement.name), requirement.specifier


def by_package(inventory: Inventory, query: str, *, all_records: bool) -> Answer:
    """The environments carrying package ``query`` (by its own name or its PyPI name), in matching versions."""
    name, specifier = parse_package_query(query)
    hits = []
    judged: dict[str, bool | None] = {}
    for carrier in inventory.carriers(names=[name], pypi_names=[name], all_records=all_records):
        if not specifier:
            hits.append(Hit(carrier=carrier, advisories=(), uncertain=None))
            continue
        if carrier.version is None:
            hits.append(Hit(carrier=carrier, advisories=(),
                            uncertain=f"unpinned ({carrier.specifier or 'no specifier'})"))
            continue
        if carrier.version not in judged:
            judged[carrier.version] = _contains(specifier, carrier.version)
        verdict = judged[carrier.version]
        if verdict is None:
            hits.append(Hit(carrier=carrier, advisories=(), uncertain=f"{carrier.version} is not a PEP 440 version"))
        elif verdict:
            hits.append(Hit(carrier=carrier, advisories=(), uncertain=None))
    return Answer(query=query, kind="package", advisories=(), hits=_sorted(hits))


def _contains(specifier: SpecifierSet, text: str) -> bool | None:
    try:
        version = Version(text)
    except InvalidVersion:
        return None
    return specifier.contains(version, prereleases=True)


def _sorted(hits: list[Hit]) -> tuple[Hit, ...]:
    return tuple(sorted(hits, key=lambda h: (h.carrier.identity.repository, h.carrier.identity.stage,
                                             h.carrier.identity.name, h.carrier.checked_at, h.carrier.digest,
                                             h.carrier.name, h.carrier.version or "")))
