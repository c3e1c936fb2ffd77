"""CycloneDX SBOMs in JSON (``"bomFormat": "CycloneDX"``, spec 1.x), as ``cyclonedx-py``,
syft or cdxgen write them: the packages of an environment someone else inventoried.

A component is a package of the environment when its ``purl`` says so:

- ``pkg:pypi/<name>@<version>``: ecosystem ``pypi``, ``pypi_name`` the normalised name.
  Source from the purl qualifiers: ``vcs_url`` (``git+https://...@<commit>``) is
  :attr:`SourceKind.VCS`, ``download_url`` :attr:`SourceKind.URL` (``file:``:
  :attr:`SourceKind.PATH`), ``repository_url`` :attr:`SourceKind.INDEX` with that URL; none of
  them: :attr:`SourceKind.INDEX` with the index unknown (``cyclonedx-py`` writes no
  qualifier for packages from an index, whichever index that was).
- ``pkg:conda/<name>@<version>?build=...&channel=...&subdir=...``: ecosystem ``conda``, source
  :attr:`SourceKind.CHANNEL` with the ``channel`` qualifier, a platform marker from
  ``subdir`` and a PyPI name per :func:`gate.sources.conda_names.pypi_name_for` (a Python
  build tag in ``build`` is the evidence).

Every component is visited, nested ``components`` too, in document order. Read from each
package component: the version from the purl (else the component's ``version``; the two
must agree when both are given; neither: unpinned); ``hashes`` and the hashes of its
``distribution`` external references (``SHA-256`` -> ``sha256``...); ``licenses``: an
``expression`` is the licence expression, SPDX ``license.id``\\ s make one (several are joined
with ``AND``, the strict reading of a list of declared licences), and ``license.name`` with
its plain ``text`` goes to the free-text licence field; ``scope``: ``required`` or none is
group ``runtime``, ``optional`` and ``excluded`` are those groups; the top-level
``dependencies`` graph gives each package's ``requires`` (the names it depends on, no
versions: the graph has none). The location is the line of the component's ``purl``.

Skipped, and counted in the environment's notes: components without a purl (``cyclonedx-py``
gives none to packages installed from a local path, and so they are not judged here) and
components of other purl types (``pkg:npm``, ``pkg:generic``, ``pkg:github``...). Not read at
all: the SBOM's own subject, ``metadata.component``, which is the thing described, not one of
its parts, and the tools in ``metadata.tools``. Also not read: ``services``,
``vulnerabilities`` (the gate matches its own advisory database), ``properties``,
``evidence``, ``pedigree``, and XML or protobuf SBOMs.

The purl parser is a small strict one after the purl specification (``pkg:type/namespace/
name@version?qualifiers#subpath``, percent-decoded); ``packageurl-python`` would add a
dependency for the two types read here.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import unquote

from packaging.utils import canonicalize_name

from gate.model import Environment, LicenseFields, Location, Package, Source, SourceKind, Target
from gate.sources.base import InputKind, load_json
from gate.sources.conda_names import (
    KNOWN_SUBDIRS,
    build_has_python,
    conda_package_name,
    pypi_name_for,
    subdir_marker,
    untargeted_note,
)
from gate.sources.lockfile import Where, paused_gc, read_sample, read_text, sorted_hashes
from gate.sources.requirements import split_revision

MAX_SBOM_BYTES = 100 * 1024 * 1024  # SBOMs of whole images with file lists run to tens of MB
READ_TYPES = ("pypi", "conda")

_BOM_FORMAT = re.compile(r'"bomFormat"\s*:\s*"CycloneDX"')
_PURL_KEY = re.compile(r'"purl"\s*:\s*("(?:[^"\\]|\\.)*")')
_PURL_TYPE = re.compile(r"[a-z.+-][a-z0-9.+-]*")
_QUALIFIER_KEY = re.compile(r"[a-z.\-_][a-z0-9.\-_]*")
_HEX = re.compile(r"[0-9a-fA-F]+")
_VCS = re.compile(r"(?:git|hg|svn|bzr)\+", re.IGNORECASE)
# CycloneDX hash algorithm names -> the names hashlib (and pip, and the other readers) use.
HASH_ALGORITHMS = {
    "MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512",
    "SHA3-256": "sha3_256", "SHA3-384": "sha3_384", "SHA3-512": "sha3_512",
    "BLAKE2b-256": "blake2b_256", "BLAKE2b-384": "blake2b_384", "BLAKE2b-512": "blake2b_512", "BLAKE3": "blake3",
}
SCOPE_GROUPS = {"required": "runtime", "optional": "optional", "excluded": "excluded"}


@dataclass(frozen=True, kw_only=True, slots=True)
class Purl:
    """A package URL taken apart; ``qualifiers`` keys are lower-case, values percent-decoded."""

    type: str
    namespace: str | None
    name: str
    version: str | None
    qualifiers: dict[str, str]
    subpath: str | None


def parse_purl(text: str) -> Purl:
    """Parse ``pkg:type/namespace/name@version?qualifiers#subpath`` as the purl
    specification's parsing rules say. Raises ``ValueError`` naming what is wrong."""
    if not text[:4].lower() == "pkg:":
        raise ValueError("does not start with 'pkg:'")
    rest, _, subpath = text[4:].lstrip("/").partition("#")
    rest, _, qualifier_text = rest.partition("?")
    purl_type, separator, path = rest.partition("/")
    purl_type = purl_type.lower()
    if not separator or not _PURL_TYPE.fullmatch(purl_type):
        raise ValueError("no '<type>/' after 'pkg:'")
    path, at, version_text = path.rpartition("@") if "@" in path else (path, "", "")
    segments = [unquote(segment) for segment in path.strip("/").split("/")]
    name = segments[-1]
    if not name:
        raise ValueError("no name")
    if at and not version_text:
        raise ValueError("an empty version after '@'")
    qualifiers: dict[str, str] = {}
    for pair in filter(None, qualifier_text.split("&")):
        key, equals, value = pair.partition("=")
        key = key.lower()
        if not equals or not _QUALIFIER_KEY.fullmatch(key):
            raise ValueError(f"qualifier {pair!r} is not key=value")
        if key in qualifiers:
            raise ValueError(f"qualifier {key!r} given twice")
        if value:  # the specification drops qualifiers with empty values
            qualifiers[key] = unquote(value)
    return Purl(type=purl_type, namespace="/".join(segments[:-1]) or None, name=name,
                version=unquote(version_text) if at else None, qualifiers=qualifiers,
                subpath=unquote(subpath.strip("/")) or None)


@dataclass(frozen=True, kw_only=True, slots=True)
class CycloneDxReader:
    """A CycloneDX JSON SBOM (see the module docstring)."""

    name: ClassVar[str] = "cyclonedx"
    input_kind: ClassVar[InputKind] = InputKind.LOCKFILE
    max_bytes: int = MAX_SBOM_BYTES

    def detect(self, path: Path) -> bool:
        """A JSON object with ``"bomFormat": "CycloneDX"`` in its first or last 64 kB (key
        order is free: ``cyclonedx-py`` sorts the keys and writes it last)."""
        sample = read_sample(path)
        return sample is not None and sample.lstrip().startswith("{") and _BOM_FORMAT.search(sample) is not None

    def read(self, path: Path, *, target: Target | None = None) -> Environment:
        """Every PyPI and conda component of ``path``; ``target`` is not consulted."""
        with paused_gc():
            return self._read(path)

    def _read(self, path: Path) -> Environment:
        file = str(path)
        text = read_text(path, limit=self.max_bytes)
        document = load_json(text, where=file)
        top = Where(file, None, "", json=True)
        bom = top.table(document)
        bom_format = _string(top, bom, "bomFormat", required=True)
        if bom_format != "CycloneDX":
            raise top.at("bomFormat").error(f"expected 'CycloneDX', got {bom_format!r}")
        spec_version = _string(top, bom, "specVersion", required=True) or ""
        if not spec_version.startswith("1."):
            raise top.at("specVersion").error(f"CycloneDX {spec_version} is not supported (1.x)")
        lines = _purl_lines(text)
        packages: list[tuple[Package, str | None]] = []
        skipped: Counter[str] = Counter()
        subdirs: set[str] = set()
        for component, place in _components(bom, top):
            purl_text = _string(place, component, "purl")
            if purl_text is None:
                skipped["without a purl"] += 1
                continue
            line = _take(lines, purl_text)
            purl_place = Where(file, line, place.at("purl").key, json=True)
            try:
                purl = parse_purl(purl_text)
            except ValueError as error:
                raise purl_place.error(f"not a package URL: {error} ({purl_text!r})") from None
            if purl.type not in READ_TYPES:
                skipped[f"pkg:{purl.type}"] += 1
                continue
            place = Where(file, line, place.key, json=True)
            package = _package(component, purl, place, file=file)
            if purl.type == "conda" and "subdir" in purl.qualifiers:
                subdirs.add(purl.qualifiers["subdir"])
            packages.append((package, _string(place, component, "bom-ref")))
        with_requires = _requires(bom, top, packages)
        notes: list[str] = []
        if skipped:
            total = sum(skipped.values())
            counts = ", ".join(f"{count} {reason}" for reason, count in sorted(skipped.items()))
            notes.append(f"{total} SBOM component{' was' if total == 1 else 's were'} not read (not a PyPI or conda "
                         f"package): {counts}")
        odd = untargeted_note(subdirs)
        if odd is not None:
            notes.append(odd)
        return Environment.create(source=file, kind=self.name, target=Target(), packages=with_requires,
                                  notes=tuple(notes))


def _string(place: Where, table: dict[str, Any], key: str, *, required: bool = False) -> str | None:
    """``place.get_string`` with the well-typed case first: it builds no :class:`Where`, and a
    large SBOM reads tens of thousands of fields."""
    value = table.get(key)
    return value if type(value) is str else place.get_string(table, key, required=required)


def _array(place: Where, table: dict[str, Any], key: str) -> list[Any]:
    value = table.get(key)
    return value if type(value) is list else place.get_array(table, key)


def _components(bom: dict[str, Any], top: Where) -> Iterator[tuple[dict[str, Any], Where]]:
    """Every component in document order, nested ones after their parent; iterative, so a
    deep nesting costs no recursion."""
    stack: list[tuple[Any, Where]] = []
    roots = _array(top, bom, "components")
    place = top.at("components")
    stack.extend((item, place.at(index)) for index, item in reversed(list(enumerate(roots))))
    while stack:
        raw, item_place = stack.pop()
        component = item_place.table(raw)
        yield component, item_place
        nested = _array(item_place, component, "components")
        nested_place = item_place.at("components")
        stack.extend((item, nested_place.at(index)) for index, item in reversed(list(enumerate(nested))))


def _purl_lines(text: str) -> dict[str, list[int]]:
    """The lines of every ``"purl": "..."`` in the text, by decoded purl, in text order: JSON
    parsers keep no positions, and a purl identifies its component. (A purl written twice,
    say once for a tool in ``metadata`` and once as a component, may give the component the
    other one's line; nothing else is affected.)"""
    lines: dict[str, list[int]] = {}
    line, counted = 1, 0
    for match in _PURL_KEY.finditer(text):
        line += text.count("\n", counted, match.start())
        counted = match.start()
        try:
            value = json.loads(match.group(1))
        except json.JSONDecodeError:
            continue
        if isinstance(value, str):
            lines.setdefault(value, []).append(line)
    return lines


def _take(lines: dict[str, list[int]], purl: str) -> int | None:
    found = lines.get(purl)
    if not found:
        return None
    return found.pop(0) if len(found) > 1 else found[0]


def _package(component: dict[str, Any], purl: Purl, place: Where, *, file: str) -> Package:
    version = purl.version
    declared = _string(place, component, "version")
    if version is not None and declared is not None and declared != version:
        raise place.at("version").error(f"{declared!r} disagrees with the purl's version {version!r}")
    version = version if version is not None else declared or None
    scope = _string(place, component, "scope") or "required"
    group = SCOPE_GROUPS.get(scope)
    if group is None:
        raise place.at("scope").error(f"expected required, optional or excluded, got {scope!r}")
    hashes = _hashes(component, place)
    license_fields = _licenses(component, place)
    location = Location(file=file, line=place.line)
    if purl.type == "pypi":
        if purl.namespace is not None:
            raise place.at("purl").error(f"a pkg:pypi purl has no namespace (got {purl.namespace!r})")
        name = canonicalize_name(purl.name)
        return Package(name=name, version=version, specifier=None if version else "", ecosystem="pypi",
                       pypi_name=name, source=_pypi_source(purl, place), hashes=hashes, group=group,
                       location=location, license=license_fields)
    build = purl.qualifiers.get("build")
    subdir = purl.qualifiers.get("subdir")
    if subdir is not None and subdir not in KNOWN_SUBDIRS:
        raise place.at("purl").error(f"subdir '{subdir}' is not a conda platform")
    return Package(
        name=conda_package_name(purl.name),
        version=version,
        specifier=None if version else "",
        ecosystem="conda",
        pypi_name=pypi_name_for(purl.name, python_evidence=build_has_python(build) if build else None),
        source=Source(kind=SourceKind.CHANNEL, url=purl.qualifiers.get("channel")),
        hashes=hashes,
        marker=subdir_marker(subdir) if subdir is not None else None,
        group=group,
        location=location,
        license=license_fields,
    )


def _pypi_source(purl: Purl, place: Where) -> Source:
    qualifiers = purl.qualifiers
    if "vcs_url" in qualifiers:
        url = qualifiers["vcs_url"]
        if not _VCS.match(url):
            raise place.at("purl").error(f"vcs_url {url!r} is not a <vcs>+<url> URL")
        repository, revision = split_revision(url.split("#", 1)[0])
        return Source(kind=SourceKind.VCS, url=repository, commit=revision)
    if "download_url" in qualifiers:
        url = qualifiers["download_url"]
        kind = SourceKind.PATH if url.lower().startswith("file:") else SourceKind.URL
        return Source(kind=kind, url=url)
    return Source(kind=SourceKind.INDEX, url=qualifiers.get("repository_url"))


def _hashes(component: dict[str, Any], place: Where) -> tuple[tuple[str, str], ...]:
    """The component's hashes and those of its ``distribution`` references (where
    ``cyclonedx-py`` puts the hash of the archive a package was installed from)."""
    found = list(_hash_list(component, place))
    references_place = place.at("externalReferences")
    for index, raw in enumerate(_array(place, component, "externalReferences")):
        reference_place = references_place.at(index)
        reference = reference_place.table(raw)
        if _string(reference_place, reference, "type") == "distribution":
            found.extend(_hash_list(reference, reference_place))
    return sorted_hashes(found)


def _hash_list(table: dict[str, Any], place: Where) -> Iterator[tuple[str, str]]:
    hashes_place = place.at("hashes")
    for index, raw in enumerate(_array(place, table, "hashes")):
        entry_place = hashes_place.at(index)
        entry = entry_place.table(raw)
        algorithm = _string(entry_place, entry, "alg", required=True) or ""
        content = _string(entry_place, entry, "content", required=True) or ""
        name = HASH_ALGORITHMS.get(algorithm)
        if name is None:
            raise entry_place.at("alg").error(f"unknown hash algorithm {algorithm!r}")
        if not _HEX.fullmatch(content):
            raise entry_place.at("content").error("not a hex digest")
        yield name, content.lower()


def _licenses(component: dict[str, Any], place: Where) -> LicenseFields:
    expressions: list[str] = []
    ids: list[str] = []
    texts: list[str] = []
    licenses_place = place.at("licenses")
    for index, raw in enumerate(_array(place, component, "licenses")):
        choice_place = licenses_place.at(index)
        choice = choice_place.table(raw)
        if "expression" in choice:
            expressions.append(_string(choice_place, choice, "expression") or "")
            continue
        license_place = choice_place.at("license")
        license_entry = license_place.table(choice.get("license"))
        identifier = _string(license_place, license_entry, "id")
        if identifier is not None:
            if identifier not in ids:
                ids.append(identifier)
            continue
        name = _string(license_place, license_entry, "name")
        content = _plain_text(license_entry, license_place)
        if content or name:
            texts.append(content or name or "")
    expression: str | None = None
    if expressions:
        expression = expressions[0] if len(expressions) == 1 else " AND ".join(f"({e})" for e in expressions)
    elif ids:
        expression = " AND ".join(ids)
    return LicenseFields(expression=expression, text="\n".join(texts) if texts else None)


def _plain_text(license_entry: dict[str, Any], place: Where) -> str | None:
    """A licence's attached text when it is plain text (not base64, which holds files)."""
    if "text" not in license_entry:
        return None
    text_place = place.at("text")
    attachment = text_place.table(license_entry["text"])
    if _string(text_place, attachment, "encoding") is not None:
        return None
    return _string(text_place, attachment, "content")


def _requires(bom: dict[str, Any], top: Where, packages: list[tuple[Package, str | None]]) -> list[Package]:
    """Each package with the names its ``dependencies`` entry says it depends on."""
    by_ref = {ref: package for package, ref in packages if ref is not None}
    depends: dict[str, set[str]] = {}
    place = top.at("dependencies")
    for index, raw in enumerate(_array(top, bom, "dependencies")):
        entry_place = place.at(index)
        entry = entry_place.table(raw)
        ref = _string(entry_place, entry, "ref", required=True) or ""
        for target in entry_place.strings(entry, "dependsOn"):
            if target in by_ref:
                depends.setdefault(ref, set()).add(by_ref[target].name)
    result: list[Package] = []
    for package, package_ref in packages:
        names = depends.get(package_ref or "")
        if names:
            package = replace(package, requires=tuple(sorted(names)))
        result.append(package)
    return result
