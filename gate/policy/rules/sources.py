"""``sources``: where packages may come from, and how exactly they must be locked.

Provenance a format does not record cannot be proven: an installed venv never says which
index served a wheel, and most lockfiles name no index per package. Those packages are
reported (one violation that lists them, not one per package), blocking for lockfiles, where
the lockfile could have said, and as a warning for installed environments, where nothing could
have: check the lockfile the venv was built from to prove its index."""

from __future__ import annotations

from urllib.parse import urlsplit

from gate.model import Package, SourceKind, Status, Violation
from gate.policy.rules.base import Context, Outcome

STRONG_HASHES = frozenset({"sha256", "sha384", "sha512"})
_INSTALLED_KINDS = frozenset({"venv", "site-packages"})
MAX_LISTED = 10


class SourceRule:
    section = "sources"

    def check(self, context: Context) -> Outcome:
        rules = context.policy.sources
        if rules is None:
            return Outcome()
        installed = context.environment.kind in _INSTALLED_KINDS
        violations: list[Violation] = []
        unrecorded_index: list[Package] = []
        unhashed: list[Package] = []
        for package in context.environment.packages:
            kind = package.source.kind
            if kind.value in rules.forbid:
                violations.append(Violation(rule="sources.forbid", package=package, status=Status.BLOCKING,
                                            detail=f"comes from a {_describe(package)}, which the policy forbids"))
            if rules.require_pins and package.version is None:
                violations.append(Violation(
                    rule="sources.require_pins", package=package, status=Status.BLOCKING,
                    detail=f"not pinned to one version ({package.specifier or 'any version'}): pin it with =="))
            if rules.indexes is not None and package.ecosystem == "pypi" and kind is SourceKind.INDEX:
                if package.source.url is None:
                    unrecorded_index.append(package)
                elif not _allowed_index(package.source.url, rules.indexes):
                    violations.append(Violation(
                        rule="sources.indexes", package=package, status=Status.BLOCKING,
                        detail=f"comes from the index {package.source.url}, which is not an allowed index "
                               f"({', '.join(rules.indexes)})"))
            if rules.channels is not None and package.ecosystem == "conda":
                channel = _channel_name(package.source.url)
                if channel is None or channel not in {_channel_name(c) for c in rules.channels}:
                    violations.append(Violation(
                        rule="sources.channels", package=package, status=Status.BLOCKING,
                        detail=f"comes from the channel {package.source.url or 'unknown'}, which is not an "
                               f"allowed channel ({', '.join(rules.channels)})"))
            if (rules.require_hashes and kind not in (SourceKind.EDITABLE, SourceKind.PATH)
                    and not any(algorithm in STRONG_HASHES for algorithm, _ in package.hashes)):
                unhashed.append(package)
        status = Status.WARNING if installed else Status.BLOCKING
        if unrecorded_index:
            why = ("an installed environment does not record which index served a package"
                   if installed else "the input does not record which index served them")
            violations.append(Violation(
                rule="sources.indexes", status=status,
                detail=f"{len(unrecorded_index)} package(s) cannot be shown to come from an allowed index: {why} "
                       f"({_names(unrecorded_index)})"))
        if unhashed:
            why = ("an installed environment records no artifact hashes; judge its lockfile"
                   if installed else "lock them with --generate-hashes (pip-compile, uv) or a hashed lock format")
            violations.append(Violation(
                rule="sources.require_hashes", status=status,
                detail=f"{len(unhashed)} package(s) are not locked by a sha256 or stronger hash: {why} "
                       f"({_names(unhashed)})"))
        return Outcome(violations=tuple(violations))


def _describe(package: Package) -> str:
    source = package.source
    text = {SourceKind.VCS: "VCS URL", SourceKind.URL: "direct URL", SourceKind.PATH: "local path",
            SourceKind.EDITABLE: "editable install", SourceKind.UNKNOWN: "source the input does not record"}.get(
        source.kind, source.kind.value)
    if source.url:
        text += f" {source.url}"
    if source.commit:
        text += f" (commit {source.commit})"
    return text


def _allowed_index(url: str, allowed: tuple[str, ...]) -> bool:
    """A prefix match on whole path segments, scheme and host compared case-insensitively."""
    candidate = _normalise_url(url)
    return any(candidate == prefix or candidate.startswith(prefix + "/") for prefix in map(_normalise_url, allowed))


def _normalise_url(url: str) -> str:
    try:
        parts = urlsplit(url.strip())
    except ValueError:  # not a URL (an unclosed IPv6 host): compared as written, so it matches no other
        return url.strip()
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path.rstrip('/')}"


def _channel_name(channel: str | None) -> str | None:
    """``https://conda.anaconda.org/conda-forge`` and ``conda-forge`` are the same channel."""
    if channel is None:
        return None
    text = channel.strip().rstrip("/")
    try:
        parts = urlsplit(text)
    except ValueError:  # not a URL (an unclosed IPv6 host): compared as written
        return text.lower()
    if parts.scheme and parts.netloc.lower() in ("conda.anaconda.org", "anaconda.org"):
        return parts.path.strip("/").split("/")[0].lower()
    return text.lower() if not parts.scheme else _normalise_url(text)


def _names(packages: list[Package]) -> str:
    shown = ", ".join(p.label for p in packages[:MAX_LISTED])
    return shown + (f", and {len(packages) - MAX_LISTED} more" if len(packages) > MAX_LISTED else "")
