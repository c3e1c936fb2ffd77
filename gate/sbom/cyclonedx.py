"""Render a :class:`~gate.model.Decision` as CycloneDX 1.6 JSON with ``cyclonedx-python-lib``.

The BOM describes exactly the environment that was judged (the root component, identified by
its digest), one library component per package, the dependency edges the metadata states, and
one vulnerability per finding with the waiver that applied. It is a subject of the signed
record, so it must be reproducible: the timestamp is the decision's injected ``checked_at``,
every bom-ref is derived from the package (the library would otherwise mint random UUIDs),
and the serial number is a UUID derived from the sha256 of the rendered BOM itself.

The library's JSON validator is not imported here: it loads the schemas and ``jsonschema``,
which costs more than the whole render; the tests validate strictly instead.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterable
from decimal import Decimal
from urllib.parse import urlsplit

from cyclonedx.model import ExternalReference, ExternalReferenceType, HashAlgorithm, HashType, Property, XsUri
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.bom_ref import BomRef
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.dependency import Dependency
from cyclonedx.model.impact_analysis import ImpactAnalysisResponse, ImpactAnalysisState
from cyclonedx.model.license import DisjunctiveLicense, License, LicenseExpression
from cyclonedx.model.tool import ToolRepository
from cyclonedx.model.vulnerability import (
    BomTarget,
    Vulnerability,
    VulnerabilityAdvisory,
    VulnerabilityAnalysis,
    VulnerabilityRating,
    VulnerabilityReference,
    VulnerabilityScoreSource,
    VulnerabilitySeverity,
    VulnerabilitySource,
)
from cyclonedx.output import make_outputter
from cyclonedx.schema import OutputFormat, SchemaVersion
from packageurl import PackageURL

import gate
from gate.clock import format_instant
from gate.licenses import detect
from gate.model import Decision, Finding, Level, ModelCard, ModelFile, Package, Safety, Severity, SourceKind

SPEC_VERSION = "1.6"
ROOT_REF = "environment"
TOOL_REF = "promotion-gate"
PROPERTY_LIMIT = 200  # a raw licence text can be pages long: the report quotes an excerpt, so does the BOM

# The serial is computed from the BOM rendered with this placeholder, then put in its place.
_PLACEHOLDER = uuid.UUID(int=0)
_PLACEHOLDER_FIELD = f'"serialNumber": "{_PLACEHOLDER.urn}"'

_HASHES: dict[str, tuple[HashAlgorithm, int]] = {
    "md5": (HashAlgorithm.MD5, 32),
    "sha1": (HashAlgorithm.SHA_1, 40),
    "sha256": (HashAlgorithm.SHA_256, 64),
    "sha384": (HashAlgorithm.SHA_384, 96),
    "sha512": (HashAlgorithm.SHA_512, 128),
}
_HEX = re.compile(r"[0-9a-f]+")
_REQUIREMENT_NAME = re.compile(r"\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)")
_EXTRA_MARKER = re.compile(r"\bextra\s*==")
_NORMALISE = re.compile(r"[-_.]+")

_SEVERITY: dict[Level, VulnerabilitySeverity] = {
    Level.MALICIOUS: VulnerabilitySeverity.CRITICAL,
    Level.CRITICAL: VulnerabilitySeverity.CRITICAL,
    Level.HIGH: VulnerabilitySeverity.HIGH,
    Level.MEDIUM: VulnerabilitySeverity.MEDIUM,
    Level.LOW: VulnerabilitySeverity.LOW,
    Level.UNKNOWN: VulnerabilitySeverity.UNKNOWN,
}
_VECTOR_METHODS: tuple[tuple[str, VulnerabilityScoreSource], ...] = (
    ("CVSS:4.", VulnerabilityScoreSource.CVSS_V4),
    ("CVSS:3.1/", VulnerabilityScoreSource.CVSS_V3_1),
    ("CVSS:3.0/", VulnerabilityScoreSource.CVSS_V3),
    ("AV:", VulnerabilityScoreSource.CVSS_V2),
)


def render_sbom(decision: Decision) -> str:
    """The decision's environment and findings as CycloneDX 1.6 JSON: same decision, same bytes."""
    bom = _bom(decision)
    text = make_outputter(bom, OutputFormat.JSON, SchemaVersion.V1_6).output_as_string(indent=2)
    text = _add_model_cards(text, decision.models)
    if text.count(_PLACEHOLDER_FIELD) != 1:  # the library's layout changed: fail loudly, never emit a wrong serial
        raise RuntimeError("cyclonedx-python-lib wrote no single serialNumber field")
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    serial = uuid.UUID(bytes=digest[:16], version=5)  # RFC 4122 layout; the name hashed is the BOM itself
    return text.replace(_PLACEHOLDER_FIELD, f'"serialNumber": "{serial.urn}"', 1) + "\n"


def purl_for(package: Package) -> PackageURL:
    """``pkg:pypi/<name>@<version>`` or ``pkg:conda/<name>@<version>?channel=<channel>``."""
    if package.ecosystem == "conda":
        channel = package.source.url if package.source.kind is SourceKind.CHANNEL else None
        return PackageURL(type="conda", name=package.name, version=package.version,
                          qualifiers={"channel": channel} if channel else None)
    return PackageURL(type="pypi", name=package.name, version=package.version)


def bom_ref_for(package: Package) -> str:
    """The package's purl: stable across runs and machines, and what a reader of the BOM searches for."""
    return purl_for(package).to_string()


def _bom(decision: Decision) -> Bom:
    environment = decision.environment
    refs = _refs(environment.packages)
    root = Component(
        type=ComponentType.APPLICATION, name=environment.source, version=environment.digest,
        bom_ref=ROOT_REF, properties=_properties(
            ("gate:environment-kind", environment.kind),
            ("gate:environment-digest", environment.digest),
            ("gate:target-python", environment.target.python),
            ("gate:target-platform", environment.target.platform),
        ))
    tool = Component(type=ComponentType.APPLICATION, name="promotion-gate", version=gate.__version__,
                     bom_ref=TOOL_REF)
    database = decision.database
    metadata = BomMetaData(
        tools=ToolRepository(components=[tool]),
        component=root,
        timestamp=decision.checked_at.replace(microsecond=0),
        properties=_properties(
            ("gate:verdict", decision.verdict.value),
            ("gate:checked-at", format_instant(decision.checked_at)),
            ("gate:policy-path", decision.policy.path),
            ("gate:policy-digest", decision.policy.digest),
            ("gate:policy-stage", decision.policy.stage),
            ("gate:database-source", database.source if database else None),
            ("gate:database-digest", database.digest if database else None),
        ),
    )
    components = [_component(package, ref) for package, ref in zip(environment.packages, refs, strict=True)]
    components.extend(_model_component(model) for model in decision.models)
    refs_by_package = dict(zip(environment.packages, refs, strict=True))
    vulnerabilities = [_vulnerability(finding, refs_by_package=refs_by_package) for finding in decision.findings]
    dependencies = _dependencies(environment.packages, refs)
    if decision.models:  # promoted together: the root depends on the model files too
        model_refs = [model_ref(model) for model in decision.models]
        top = dependencies[0]
        dependencies[0] = Dependency(ref=top.ref, dependencies=[
            *top.dependencies, *(Dependency(ref=BomRef(ref)) for ref in model_refs)])
        dependencies.extend(Dependency(ref=BomRef(ref)) for ref in model_refs)
    return Bom(serial_number=_PLACEHOLDER, metadata=metadata, components=components,
               dependencies=dependencies, vulnerabilities=vulnerabilities)


def model_ref(model: ModelFile) -> str:
    """A model file's bom-ref: its path as shown, which is unique among the files scanned."""
    return f"model:{model.path}"


def _model_component(model: ModelFile) -> Component:
    """A ``machine-learning-model`` component: the file's hash, format and scan verdict; the imports
    that decided the verdict; the licence its README states."""
    card = model.card
    licenses: list[License] = []
    if card is not None and card.license is not None:
        from gate.licenses import normalise_id

        identifier = normalise_id(card.license)
        licenses = [LicenseExpression(identifier) if identifier is not None
                    else DisjunctiveLicense(name=card.license[:PROPERTY_LIMIT])]
    return Component(
        type=ComponentType.MACHINE_LEARNING_MODEL,
        name=model.path,
        bom_ref=model_ref(model),
        hashes=_hashes([("sha256", model.sha256)]) if model.sha256 else [],
        licenses=licenses,
        properties=_properties(
            ("gate:model-format", model.format),
            ("gate:model-verdict", model.verdict),
            ("gate:model-size", str(model.size)),
            *((f"gate:model-{i.safety.value}-import", i.qualified + (f" (in {i.stream})" if i.stream else ""))
              for i in model.imports if i.safety is not Safety.SAFE),
            *(("gate:model-problem", _shorten(problem)) for problem in model.problems),
        ),
    )


def _model_card(card: ModelCard, ref: str) -> dict[str, object]:
    """CycloneDX 1.6 ``modelCard``: the library has no model for it yet, so it is added to the JSON."""
    parameters = {key: value for key, value in (("task", card.task), ("architectureFamily", card.model_type),
                                                ("modelArchitecture", card.architecture)) if value is not None}
    document: dict[str, object] = {"bom-ref": f"{ref}#model-card"}
    if parameters:
        document["modelParameters"] = parameters
    document["properties"] = [{"name": "gate:model-card-source", "value": source} for source in card.sources]
    return document


def _add_model_cards(text: str, models: tuple[ModelFile, ...]) -> str:
    cards = {model_ref(model): model.card for model in models if model.card is not None}
    if not cards:
        return text
    document = json.loads(text)
    for component in document.get("components", []):
        card = cards.get(component.get("bom-ref"))
        if card is not None:
            component["modelCard"] = _model_card(card, component["bom-ref"])
    return json.dumps(document, indent=2)


def _refs(packages: tuple[Package, ...]) -> list[str]:
    """One unique bom-ref per package: the purl, numbered when two packages share it (per-marker forks)."""
    seen: dict[str, int] = {}
    refs = []
    for package in packages:
        base = bom_ref_for(package)
        count = seen.get(base, 0) + 1
        seen[base] = count
        refs.append(base if count == 1 else f"{base}#{count}")
    return refs


def _component(package: Package, ref: str) -> Component:
    detected = detect(package.license, ecosystem=package.ecosystem)
    licenses = [LicenseExpression(detected.expression)] if detected.expression is not None else []
    source = package.source
    return Component(
        type=ComponentType.LIBRARY,
        name=package.name,
        version=package.version if package.version is not None else package.specifier or "",
        bom_ref=ref,
        purl=purl_for(package),
        hashes=_hashes(package.hashes),
        licenses=licenses,
        external_references=_references(package),
        properties=_properties(
            ("gate:unpinned", "true" if package.version is None else None),
            ("gate:specifier", package.specifier if package.version is None else None),
            ("gate:ecosystem", package.ecosystem),
            ("gate:source-kind", source.kind.value),
            ("gate:source-url", source.url),
            ("gate:commit", source.commit),
            ("gate:group", package.group),
            ("gate:marker", package.marker),
            ("gate:location", str(package.location) if package.location is not None else None),
            ("gate:installer", package.installer),
            ("gate:license-raw", _shorten(detected.raw) if detected.expression is None else None),
            ("gate:license-unresolved", detected.reason if detected.expression is None else None),
        ),
    )


def _hashes(hashes: Iterable[tuple[str, str]]) -> list[HashType]:
    """The artifact hashes CycloneDX can carry; a malformed digest is left out rather than fail the schema."""
    kept = []
    for algorithm, value in hashes:
        known = _HASHES.get(algorithm.lower().replace("-", "").replace("_", ""))
        digest = value.lower()
        if known is not None and len(digest) == known[1] and _HEX.fullmatch(digest):
            kept.append(HashType(alg=known[0], content=digest))
    return kept


def _references(package: Package) -> list[ExternalReference]:
    """Where the artifact came from, when that is a URL: the index or channel, the VCS repository, the file."""
    url = package.source.url
    if url is None or not _is_web_url(url):
        return []
    kind = ExternalReferenceType.VCS if package.source.kind is SourceKind.VCS else ExternalReferenceType.DISTRIBUTION
    comment = f"commit {package.source.commit}" if package.source.commit else None
    return [ExternalReference(type=kind, url=XsUri(url), comment=comment)]


def _is_web_url(url: str) -> bool:
    if any(character.isspace() or ord(character) < 0x20 for character in url):
        return False
    parts = urlsplit(url)
    return bool(parts.scheme) and bool(parts.netloc)


def _dependencies(packages: tuple[Package, ...], refs: list[str]) -> list[Dependency]:
    """Edges from each package's stated requirements to the packages present in the same ecosystem.

    A requirement guarded by an ``extra`` marker is left out: whether the extra was asked for is
    not known, and an edge must be a fact. The root depends on the packages no other requires."""
    by_name: dict[tuple[str, str], list[str]] = {}
    for package, ref in zip(packages, refs, strict=True):
        by_name.setdefault((package.ecosystem, package.name), []).append(ref)
    edges: dict[str, set[str]] = {}
    required: set[str] = set()
    for package, ref in zip(packages, refs, strict=True):
        targets: set[str] = set()
        for requirement in package.requires:
            name, _, marker = requirement.partition(";")
            found = _REQUIREMENT_NAME.match(name)
            if found is None or _EXTRA_MARKER.search(marker):
                continue
            key = (package.ecosystem, _NORMALISE.sub("-", found.group(1)).lower())
            targets.update(target for target in by_name.get(key, ()) if target != ref)
        edges[ref] = targets
        required.update(targets)
    top = sorted(ref for ref in refs if ref not in required) or sorted(refs)
    dependencies = [Dependency(ref=BomRef(ROOT_REF), dependencies=[Dependency(ref=BomRef(ref)) for ref in top])]
    dependencies.extend(Dependency(ref=BomRef(ref), dependencies=[Dependency(ref=BomRef(t)) for t in sorted(targets)])
                        for ref, targets in edges.items())
    return dependencies


def _vulnerability(finding: Finding, *, refs_by_package: dict[Package, str]) -> Vulnerability:
    advisory = finding.advisory
    ref = refs_by_package[finding.package]
    fixed = ", ".join(advisory.fixed)
    return Vulnerability(
        bom_ref=f"{advisory.id}|{ref}",
        id=advisory.id,
        source=_source(advisory.id),
        references=[VulnerabilityReference(id=alias, source=_source(alias)) for alias in advisory.aliases],
        ratings=_ratings(advisory.severity, source=_source(advisory.id)),
        description=advisory.summary or None,
        recommendation=f"Upgrade {finding.package.name} to a fixed version: {fixed}" if fixed else None,
        advisories=[VulnerabilityAdvisory(url=XsUri(advisory.url))] if advisory.url and _is_web_url(advisory.url)
        else [],
        analysis=_analysis(finding),
        affects=[BomTarget(ref=ref)],
        properties=_properties(
            ("gate:status", finding.status.value),
            ("gate:malicious", "true" if advisory.malicious else None),
            ("gate:withdrawn", advisory.withdrawn),
            ("gate:modified", advisory.modified),
            ("gate:published", advisory.published),
            ("gate:uncertain", finding.uncertain),
            ("gate:severity-origin", advisory.severity.origin),
            *(("gate:fixed", version) for version in advisory.fixed),
        ),
    )


def _source(identifier: str) -> VulnerabilitySource:
    """The database an identifier belongs to, with the advisory's page there."""
    if identifier.startswith("GHSA-"):
        return VulnerabilitySource(name="GHSA", url=XsUri(f"https://github.com/advisories/{identifier}"))
    if identifier.startswith("CVE-"):
        return VulnerabilitySource(name="NVD", url=XsUri(f"https://nvd.nist.gov/vuln/detail/{identifier}"))
    return VulnerabilitySource(name="OSV", url=XsUri(f"https://osv.dev/vulnerability/{identifier}"))


def _ratings(severity: Severity, *, source: VulnerabilitySource) -> list[VulnerabilityRating]:
    if severity.level is Level.UNKNOWN and severity.score is None and severity.vector is None:
        return []
    method = VulnerabilityScoreSource.OTHER
    if severity.vector is not None:
        method = next((m for prefix, m in _VECTOR_METHODS if severity.vector.startswith(prefix)), method)
    return [VulnerabilityRating(
        source=source,
        score=Decimal(str(severity.score)) if severity.score is not None else None,
        severity=_SEVERITY[severity.level],
        method=method,
        vector=severity.vector,
    )]


def _analysis(finding: Finding) -> VulnerabilityAnalysis | None:
    """A waiver is a named owner accepting a real, matching advisory until a date, not a proof that
    the package is unaffected: so the state is ``exploitable`` with the response ``will_not_fix``
    (``can_not_fix`` when no fixed version exists), and no justification, which CycloneDX reserves
    for ``not_affected``. The detail carries the waiver's reason, owner and expiry verbatim."""
    waiver = finding.waiver
    if waiver is None:
        return None
    response = ImpactAnalysisResponse.WILL_NOT_FIX if finding.advisory.fixed else ImpactAnalysisResponse.CAN_NOT_FIX
    scope = f" for {waiver.package}" if waiver.package else ""
    detail = (f"Waived by policy{scope} (waiver {waiver.id}), owner {waiver.owner}, expires "
              f"{waiver.expires.isoformat()}: {waiver.reason}")
    return VulnerabilityAnalysis(state=ImpactAnalysisState.EXPLOITABLE, responses=[response], detail=detail)


def _properties(*pairs: tuple[str, str | None]) -> list[Property]:
    return [Property(name=name, value=value) for name, value in pairs if value is not None]


def _shorten(text: str | None) -> str | None:
    if text is None or len(text) <= PROPERTY_LIMIT:
        return text
    return text[:PROPERTY_LIMIT] + "..."
