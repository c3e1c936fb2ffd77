"""What the registry rules need from an index, without any I/O: which releases to look up, a
PEP 691 project page reduced to per-release facts, and those facts as :class:`ReleaseFacts`.

The reduction is what the on-disk cache stores. A project page on a real index lists every file
of every version (several megabytes for the largest projects); the rules need, per release, the
earliest upload time, whether it is yanked, the file hashes and one wheel's metadata URL. Storing
only that keeps a warm-cache check to a few milliseconds (see ``docs/registry.md``).

Decisions, each the reading of a packaging specification:

- A file belongs to the release its filename names (the wheel filename spec, the sdist naming
  of PEP 625, and the legacy ``name-version.ext`` form, split where the left part normalises to
  the project's name). Versions are compared in :func:`packaging.utils.canonicalize_version`
  form, so ``1.0`` and ``1.0.0`` are one release as they are to PEP 440 and pip. Files whose
  names cannot be read (``.exe`` installers, foreign names) are attributed to no release: a
  lock can only be verified against files the gate can place, and a release with none of them
  reads as missing, which blocks.
- ``upload_time`` is the earliest ``upload-time`` (PEP 700) among the release's files: the
  moment the release became installable. Files that do not say are left out of the minimum
  (the age shown can then only be younger than the truth, never older), and a release none of
  whose files say has no upload time: the age rule then cannot pass it.
- A release is yanked when every one of its files is yanked (PEP 592: yanking is per file, and
  a release with an unyanked file is still installed by a plain ``==`` pin without warning). The
  reason is the first non-empty one, in filename order; ``""`` when none was given.
- ``hashes`` are every hash of every file of the release, as ``(algorithm, hex)`` lower-cased.
- The metadata used for licences comes from one wheel per release (PEP 658/714: the
  ``core-metadata`` key, else the older ``data-dist-info-metadata``): the first wheel that has
  it, preferring files that are not yanked, then pure-Python ``-none-any`` wheels, then filename
  order. All wheels of a release carry the same licence metadata in practice; sdists are not
  used (their metadata may be dynamic, PEP 643).

A page that is not what PEP 691 defines (not an object, an unknown major API version, a file
without a filename, URL or hashes, an unreadable upload time) raises :class:`PageError` with the
key path; the client turns it into a :class:`~gate.errors.ServiceError` naming the URL.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urldefrag, urljoin, urlsplit, urlunsplit

from packaging.utils import canonicalize_name, canonicalize_version

from gate.clock import format_instant, parse_instant
from gate.model import Environment, LicenseFields, Package, ReleaseFacts, SourceKind

# Sources whose packages the index can tell about. UNKNOWN is included: an installed package
# without installer records may well come from the index, and looking it up fails closed (a
# release the index does not serve is reported missing).
INDEX_SOURCE_KINDS = frozenset({SourceKind.INDEX, SourceKind.UNKNOWN})

_SDIST_SUFFIXES = (".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tar.xz", ".txz", ".tar", ".zip")

# The reduced form of one release, as stored in the cache (plain JSON):
#   {"uploaded": RFC 3339 | null, "yanked": reason | null, "hashes": ["sha256:<hex>", ...],
#    "metadata": {"url": <absolute .metadata URL>, "hashes": ["sha256:<hex>", ...]} | null}
ReducedRelease = dict[str, Any]


class PageError(ValueError):
    """A project page that is not a PEP 691 JSON project page; ``key_path`` says where."""

    def __init__(self, message: str, *, key_path: str | None = None) -> None:
        self.message = message
        self.key_path = key_path
        super().__init__(f"{key_path}: {message}" if key_path else message)


@dataclass(frozen=True, kw_only=True, slots=True)
class MetadataRef:
    """Where one wheel's core metadata is served (PEP 658), and the hashes the index gives for it."""

    url: str
    hashes: tuple[tuple[str, str], ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class Release:
    """One release as the rules need it (see the module notes for each field's reading)."""

    upload_time: str | None
    yanked: str | None
    hashes: tuple[tuple[str, str], ...]
    metadata: MetadataRef | None


def is_index_release(package: Package) -> bool:
    """Whether the index can tell about ``package``: a Python package that came (or may have come)
    from an index. VCS checkouts, URLs, local paths, editables and conda packages are not index
    releases; ``sources`` judges where they came from."""
    return package.ecosystem == "pypi" and package.source.kind in INDEX_SOURCE_KINDS


def wanted_releases(environment: Environment) -> tuple[tuple[str, str], ...]:
    """The (name, version) pairs to look up: every pinned index release, once, sorted."""
    return tuple(sorted({
        (package.name, package.version)
        for package in environment.packages
        if package.version is not None and is_index_release(package)
    }))


def version_key(version: str) -> str:
    """The form releases are keyed by: PEP 440-normalised with trailing ``.0`` stripped; a
    version PEP 440 cannot read is kept as written (stripped), so it matches only itself."""
    return canonicalize_version(version.strip())


def file_version(filename: str, project: str) -> str | None:
    """The version a distribution file of ``project`` carries in its name, or ``None`` when the
    name cannot be read as one of ``project``'s files (or holds control characters, which no
    distribution name does and which the cache's line format could not hold)."""
    if any(character in filename for character in "\t\n\r"):
        return None
    lowered = filename.lower()
    if lowered.endswith(".whl"):
        # {name}-{version}(-{build})?-{python}-{abi}-{platform}.whl; the name escapes "-" as "_".
        parts = filename[:-4].split("-")
        if len(parts) in (5, 6) and canonicalize_name(parts[0]) == project:
            return parts[1]
        return None
    if lowered.endswith(".egg"):
        parts = filename[:-4].split("-")
        if len(parts) >= 2 and canonicalize_name(parts[0]) == project:
            return parts[1]
        return None
    for suffix in _SDIST_SUFFIXES:
        if lowered.endswith(suffix):
            stem = filename[: -len(suffix)]
            # Legacy sdists keep "-" in the name ("python-dateutil-2.8.2"): split at the first
            # "-" whose left part is the project's name.
            position = stem.find("-")
            while position != -1:
                if canonicalize_name(stem[:position]) == project:
                    version = stem[position + 1:]
                    return version or None
                position = stem.find("-", position + 1)
            return None
    return None


def reduce_page(document: object, *, project: str, page_url: str) -> dict[str, ReducedRelease]:
    """A PEP 691 JSON project page reduced to ``{version key: reduced release}``.

    ``page_url`` resolves relative file URLs (PEP 691 allows them). Raises :class:`PageError`
    when the page is not a PEP 691 project page."""
    if not isinstance(document, dict):
        raise PageError("not a JSON object")
    meta = document.get("meta")
    if not isinstance(meta, dict):
        raise PageError("missing or not an object", key_path="meta")
    api_version = meta.get("api-version")
    if not isinstance(api_version, str) or api_version.split(".")[0] != "1":
        raise PageError(f"unsupported API version {api_version!r} (the gate reads PEP 691 version 1.x)",
                        key_path="meta.api-version")
    files = document.get("files")
    if not isinstance(files, list):
        raise PageError("missing or not a list", key_path="files")
    grouped: dict[str, list[_File]] = {}
    for index, entry in enumerate(files):
        parsed = _parse_file(entry, key_path=f"files[{index}]", project=project, page_url=page_url)
        if parsed is not None:
            grouped.setdefault(parsed.key, []).append(parsed)
    return {key: _reduce_release(sorted(group, key=lambda f: f.filename)) for key, group in grouped.items()}


def release_from_reduced(raw: object) -> Release:
    """Read one reduced release back (from the cache). Raises :class:`ValueError` if malformed."""
    if not isinstance(raw, dict):
        raise ValueError("a release entry is not an object")
    uploaded = raw.get("uploaded")
    yanked = raw.get("yanked")
    metadata = raw.get("metadata")
    if uploaded is not None and not isinstance(uploaded, str):
        raise ValueError("uploaded is not a string")
    if yanked is not None and not isinstance(yanked, str):
        raise ValueError("yanked is not a string")
    reference = None
    if metadata is not None:
        if not isinstance(metadata, dict) or not isinstance(metadata.get("url"), str):
            raise ValueError("metadata is not an object with a url")
        reference = MetadataRef(url=metadata["url"], hashes=_split_hashes(metadata.get("hashes")))
    return Release(upload_time=uploaded, yanked=yanked, hashes=_split_hashes(raw.get("hashes")), metadata=reference)


def release_facts(name: str, version: str, release: Release) -> ReleaseFacts:
    return ReleaseFacts(name=name, version=version, upload_time=release.upload_time, yanked=release.yanked,
                        hashes=release.hashes)


def license_fields(data: bytes) -> LicenseFields:
    """The licence fields of a core metadata file, as the venv reader keeps them: PEP 639
    ``License-Expression``, the legacy ``License`` and the ``License ::`` classifiers.

    Bytes that are not UTF-8 are replaced rather than refused: what they spell then fails to
    resolve, and the licence policy's ``unknown`` setting judges it, as for any unreadable
    declaration. A field given twice is dropped by the parser, with the same outcome."""
    from packaging.metadata import parse_email  # the email package: only when metadata is fetched

    raw, _ = parse_email(data.decode("utf-8", errors="replace"))
    return LicenseFields(
        expression=raw.get("license_expression"),
        text=raw.get("license"),
        classifiers=tuple(c for c in raw.get("classifiers", ()) if c.startswith("License ::")),
    )


def split_credentials(url: str) -> tuple[str, str | None]:
    """``url`` without its ``user:password@`` part, and the Basic ``Authorization`` value it
    implies (``None`` without credentials). What is shown, cached and reported is the former."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port is not None else "")
    clean = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    token = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}".encode()
    return clean, "Basic " + base64.b64encode(token).decode("ascii")


# --- parsing one file entry --------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class _File:
    filename: str
    key: str
    hashes: tuple[tuple[str, str], ...]
    uploaded: dt.datetime | None
    yanked: str | None
    metadata: MetadataRef | None


def _parse_file(entry: object, *, key_path: str, project: str, page_url: str) -> _File | None:
    if not isinstance(entry, dict):
        raise PageError("not an object", key_path=key_path)
    filename = entry.get("filename")
    url = entry.get("url")
    hashes = entry.get("hashes")
    if not isinstance(filename, str) or not filename:
        raise PageError("missing or not a string", key_path=f"{key_path}.filename")
    if not isinstance(url, str) or not url:
        raise PageError("missing or not a string", key_path=f"{key_path}.url")
    if not isinstance(hashes, dict):
        raise PageError("missing or not an object", key_path=f"{key_path}.hashes")
    version = file_version(filename, project)
    if version is None:
        return None
    uploaded = entry.get("upload-time")
    if uploaded is not None:
        if not isinstance(uploaded, str):
            raise PageError("not a string", key_path=f"{key_path}.upload-time")
        try:
            uploaded = parse_instant(uploaded)
        except ValueError:
            raise PageError(f"{uploaded!r} is not an ISO 8601 timestamp", key_path=f"{key_path}.upload-time") from None
    yanked = entry.get("yanked", False)
    if not isinstance(yanked, bool | str):
        raise PageError("neither a boolean nor a string", key_path=f"{key_path}.yanked")
    reason = (yanked if isinstance(yanked, str) else "") if yanked is not False else None
    metadata = _metadata_reference(entry, filename=filename, url=url, key_path=key_path, page_url=page_url)
    return _File(filename=filename, key=version_key(version), hashes=_hash_pairs(hashes, f"{key_path}.hashes"),
                 uploaded=uploaded, yanked=reason, metadata=metadata)


def _metadata_reference(entry: Mapping[str, Any], *, filename: str, url: str, key_path: str,
                        page_url: str) -> MetadataRef | None:
    """PEP 714's ``core-metadata``, else PEP 658's ``data-dist-info-metadata``: ``true`` or a hash
    map when the file's metadata is served at ``<file url>.metadata``. Wheels only."""
    name = "core-metadata" if "core-metadata" in entry else "data-dist-info-metadata"
    value = entry.get(name, False)
    if value is False or not filename.lower().endswith(".whl"):
        return None
    if value is True:
        hashes: tuple[tuple[str, str], ...] = ()
    elif isinstance(value, dict):
        hashes = _hash_pairs(value, f"{key_path}.{name}")
    else:
        raise PageError("neither a boolean nor an object", key_path=f"{key_path}.{name}")
    file_url = urldefrag(urljoin(page_url, url)).url
    return MetadataRef(url=file_url + ".metadata", hashes=hashes)


def _hash_pairs(mapping: Mapping[Any, Any], key_path: str) -> tuple[tuple[str, str], ...]:
    """``{algorithm: hex}`` as sorted, lower-cased pairs (lockfiles are compared the same way)."""
    pairs = set()
    for algorithm, digest in mapping.items():
        if not isinstance(digest, str) or not digest:
            raise PageError("not a hex digest", key_path=f"{key_path}.{algorithm}")
        pairs.add((str(algorithm).lower(), digest.lower()))
    return tuple(sorted(pairs))


def _split_hashes(raw: object) -> tuple[tuple[str, str], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ValueError("hashes is not a list")
    pairs = set()
    for text in raw:
        algorithm, separator, digest = text.partition(":") if isinstance(text, str) else ("", "", "")
        if not (algorithm and separator and digest):
            raise ValueError(f"{text!r} is not algorithm:hex")
        pairs.add((algorithm, digest))
    return tuple(sorted(pairs))


def _reduce_release(files: list[_File]) -> ReducedRelease:
    times = [f.uploaded for f in files if f.uploaded is not None]
    yanked = None
    if all(f.yanked is not None for f in files):
        yanked = next((f.yanked for f in files if f.yanked), "")
    candidates = sorted((f for f in files if f.metadata is not None),
                        key=lambda f: (f.yanked is not None, not f.filename.lower().endswith("-none-any.whl"),
                                       f.filename))
    metadata = None
    if candidates and candidates[0].metadata is not None:
        chosen = candidates[0].metadata
        metadata = {"url": chosen.url, "hashes": [f"{a}:{d}" for a, d in chosen.hashes]}
    return {
        "uploaded": format_instant(min(times)) if times else None,
        "yanked": yanked,
        "hashes": sorted({f"{algorithm}:{digest}" for f in files for algorithm, digest in f.hashes}),
        "metadata": metadata,
    }

