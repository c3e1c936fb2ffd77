"""What the approved index says of an environment's releases: the edge that the ``registry``
policy section (and licence detection for lockfiles) reads, through the index's PEP 691 JSON
API, with an on-disk cache.

:func:`fetch_registry_facts` is the one entry point. It looks up exactly the pinned index
releases of the environment (see :func:`gate.registry.facts.wanted_releases`), one project page
per project, and returns :class:`~gate.model.RegistryFacts` for the pure rule
:class:`gate.policy.rules.registry.RegistryRule` to judge.

When the index is asked, and when a cached answer stands in (``docs/registry.md``):

1. A cached page younger than the freshness window (:data:`FRESH_FOR`, 10 minutes; shorter if
   the policy's ``cache_max_age_hours`` is shorter) is used without a request: consecutive
   checks in one pipeline ask the index once. Upload times and hashes of a published release do
   not change; what can, a yank, is then seen at most that much later.
2. Otherwise the index is asked, conditionally when the cached page has an ``ETag`` or
   ``Last-Modified`` (a 304 renews the cached page).
3. When the index cannot be asked (unreachable, timing out, 5xx, or ``offline``), a cached page
   no older than ``registry.cache_max_age_hours`` stands in. Without that setting, or without
   such a page, the check stops with a :class:`~gate.errors.ServiceError` (exit 6, no verdict).

``RegistryFacts.from_cache`` is true when any answer came from the cache instead of the index
during this call, and ``fetched_at`` is then the fetch time of the oldest answer used: the rule
turns that into a note in the report. The first failed request stops further requests to the
index (a down index costs one timeout, not one per project).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from packaging.utils import is_normalized_name

from gate.clock import Clock, SystemClock, format_instant
from gate.errors import ServiceError
from gate.model import Environment, LicenseFields, RegistryFacts, ReleaseFacts
from gate.policy.model import RegistryRules
from gate.registry.cache import CachedPage, RegistryCache, default_cache_dir
from gate.registry.facts import (
    MetadataRef,
    Release,
    is_index_release,
    license_fields,
    release_facts,
    release_from_reduced,
    split_credentials,
    version_key,
    wanted_releases,
)

if TYPE_CHECKING:
    from gate.registry.client import IndexClient

__all__ = [
    "DEFAULT_WORKERS",
    "FRESH_FOR",
    "default_cache_dir",
    "fetch_registry_facts",
    "is_index_release",
    "wanted_releases",
]

FRESH_FOR = dt.timedelta(minutes=10)
DEFAULT_WORKERS = 8  # concurrent requests: the work is waiting on the index, not computing

_T = TypeVar("_T")
_R = TypeVar("_R")


def fetch_registry_facts(environment: Environment, rules: RegistryRules, *, licenses: bool = False,
                         cache_dir: Path | None = None, offline: bool = False, fresh_for: dt.timedelta = FRESH_FOR,
                         clock: Clock | None = None, timeout: float | None = None,
                         workers: int = DEFAULT_WORKERS) -> RegistryFacts:
    """The index's facts for every pinned index release of ``environment``.

    ``licenses``: also read, for releases of packages that carry no licence metadata of their
    own (lockfile candidates), one wheel's core metadata (PEP 658) into ``ReleaseFacts.license``;
    ``None`` there means the index serves none (or, offline, none is cached): licence unknown.
    ``offline``: never ask the index; cached answers stand in as for an unreachable index.
    ``clock`` is the wall clock the cache ages are measured with (not the judging time of
    ``--now``, which only the rules use). ``timeout``: seconds without progress on one request
    (default :data:`gate.registry.client.DEFAULT_TIMEOUT`). Raises :class:`ServiceError` (exit 6) when an answer
    is needed and neither the index nor an allowed cached answer gives it."""
    index_url = split_credentials(rules.url)[0].rstrip("/")
    cache = RegistryCache(cache_dir or default_cache_dir(), index_url)
    session = _Session(rules=rules, index_url=index_url, cache=cache, offline=offline, fresh_for=fresh_for,
                       clock=clock or SystemClock(), timeout=timeout, workers=workers)
    wanted = wanted_releases(environment)
    pages = session.pages(sorted({name for name, _ in wanted}))
    releases: dict[tuple[str, str], tuple[ReleaseFacts, Release]] = {}
    missing: list[tuple[str, str]] = []
    for name, version in wanted:
        page = pages[name].page
        try:
            raw = None if page.missing else page.releases.get(version_key(version))
            if raw is None:
                missing.append((name, version))
                continue
            release = release_from_reduced(raw)
        except ValueError as error:
            raise ServiceError(f"the cached answer is damaged ({error}): delete the file",
                               where=session.cache.page_path(name)) from None
        releases[name, version] = (release_facts(name, version, release), release)
    if licenses:
        unlicensed = {(p.name, p.version) for p in environment.packages
                      if p.version is not None and is_index_release(p) and p.license == LicenseFields()}
        found = session.licenses({key: release.metadata for key, (_, release) in releases.items()
                                  if key in unlicensed and release.metadata is not None})
        for key, fields in found.items():
            releases[key] = (dataclasses.replace(releases[key][0], license=fields), releases[key][1])
    used = list(pages.values())
    return RegistryFacts(
        url=index_url,
        fetched_at=format_instant(min((a.page.fetched_at for a in used), default=session.started)),
        from_cache=any(a.from_cache for a in used),
        releases=tuple(facts for _, (facts, _) in sorted(releases.items())),
        missing=tuple(missing),
    )


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class _Answer:
    page: CachedPage
    from_cache: bool


class _Session:
    """One call's state: the cache, the client (made only when a request is needed), and the
    first failure, after which the index is not asked again."""

    def __init__(self, *, rules: RegistryRules, index_url: str, cache: RegistryCache, offline: bool,
                 fresh_for: dt.timedelta, clock: Clock, timeout: float | None, workers: int) -> None:
        self.rules = rules
        self.index_url = index_url
        self.cache = cache
        self.offline = offline
        self.clock = clock
        self.timeout = timeout
        self.workers = max(1, workers)
        self.started = clock.now()
        allowed = None if rules.cache_max_age_hours is None else dt.timedelta(hours=rules.cache_max_age_hours)
        self.fresh_for = fresh_for if allowed is None else min(fresh_for, allowed)
        self.stale_allowed = allowed
        self._client: IndexClient | None = None
        self._lock = threading.Lock()
        self.failure: ServiceError | None = None

    # --- project pages ------------------------------------------------------------------

    def pages(self, projects: Sequence[str]) -> dict[str, _Answer]:
        answers: dict[str, _Answer] = {}
        pending: list[tuple[str, CachedPage | None]] = []
        for project in projects:
            if not is_normalized_name(project):
                # Not a name the index can serve (and not one to put into a URL or a path).
                answers[project] = _Answer(page=CachedPage(project=project, fetched_at=self.started, missing=True,
                                                           releases={}), from_cache=False)
                continue
            cached = self.cache.load_page(project)
            if cached is not None and _within(self.started - cached.fetched_at, self.fresh_for):
                answers[project] = _Answer(page=cached, from_cache=True)
            else:
                pending.append((project, cached))
        if pending and not self.offline:
            for (project, _), page in zip(pending, self._map(self._fetch_page, pending), strict=True):
                if page is not None:
                    answers[project] = _Answer(page=page, from_cache=False)
        unanswered = []
        for project, cached in pending:
            if project in answers:
                continue
            if cached is not None and self.stale_allowed is not None and _within(
                    self.started - cached.fetched_at, self.stale_allowed):
                answers[project] = _Answer(page=cached, from_cache=True)
            else:
                unanswered.append(project)
        if unanswered:
            raise self._no_answer(unanswered)
        return answers

    def _fetch_page(self, item: tuple[str, CachedPage | None]) -> CachedPage | None:
        """The live answer for one project, stored in the cache; ``None`` if the index failed."""
        project, cached = item
        if self.failure is not None:
            return None
        try:
            answer = self.client.get_project(project, etag=cached.etag if cached else None,
                                             last_modified=cached.last_modified if cached else None)
        except ServiceError as error:
            self._failed(error)
            return None
        fetched = self.clock.now()
        if answer.status == 304 and cached is not None:
            page = dataclasses.replace(cached, fetched_at=fetched, etag=answer.etag or cached.etag,
                                       last_modified=answer.last_modified or cached.last_modified)
        elif answer.status == 304:
            self._failed(ServiceError("the index answered 304 Not Modified to a request that was not conditional",
                                      where=answer.url))
            return None
        elif answer.status == 404:
            page = CachedPage(project=project, fetched_at=fetched, missing=True, releases={})
        else:
            page = CachedPage(project=project, fetched_at=fetched, missing=False, releases=answer.releases,
                              etag=answer.etag, last_modified=answer.last_modified)
        self.cache.store_page(page)
        return page

    def _no_answer(self, unanswered: list[str]) -> ServiceError:
        shown = ", ".join(unanswered[:5]) + (f" and {len(unanswered) - 5} more" if len(unanswered) > 5 else "")
        if self.stale_allowed is None:
            fallback = "registry.cache_max_age_hours is not set, so no cached answer may stand in"
        else:
            fallback = (f"no cached answer within registry.cache_max_age_hours={self.rules.cache_max_age_hours} "
                        f"for {shown}")
        if self.failure is not None:
            return ServiceError(f"{self.failure.message}; {fallback}", where=self.failure.where)
        return ServiceError(f"offline: the index was not asked, and {fallback}", where=self.index_url)

    # --- wheel metadata (licences) ------------------------------------------------------

    def licenses(self, wanted: dict[tuple[str, str], MetadataRef]) -> dict[tuple[str, str], LicenseFields]:
        """Licence fields per release from cached or fetched wheel metadata. Offline, or when a
        cached page stood in for an index that failed, uncached metadata is left out (licence
        unknown, which the licence policy judges); a failure now is a ServiceError."""
        found: dict[tuple[str, str], LicenseFields] = {}
        pending: list[tuple[tuple[str, str], MetadataRef]] = []
        for key, reference in sorted(wanted.items()):
            cached = self.cache.load_metadata(reference.url, reference.hashes)
            if cached is not None:
                found[key] = cached
            else:
                pending.append((key, reference))
        if pending and not self.offline and self.failure is None:
            fetched = self._map(self._fetch_metadata, pending)
            if self.failure is not None:
                raise self.failure  # the index answered for the pages and failed now: no verdict
            found.update((key, fields) for (key, _), fields in zip(pending, fetched, strict=True) if fields is not None)
        return found

    def _fetch_metadata(self, item: tuple[tuple[str, str], MetadataRef]) -> LicenseFields | None:
        _, reference = item
        if self.failure is not None:
            return None
        try:
            data = self.client.get_metadata(reference.url, reference.hashes)
        except ServiceError as error:
            self._failed(error)
            return None
        if data is None:
            return None
        fields = license_fields(data)
        self.cache.store_metadata(reference.url, reference.hashes, fields)
        return fields

    # --- plumbing -----------------------------------------------------------------------

    @property
    def client(self) -> IndexClient:
        with self._lock:
            if self._client is None:
                from gate.registry.client import IndexClient  # the network stack, only when needed

                self._client = (IndexClient(self.rules.url) if self.timeout is None
                                else IndexClient(self.rules.url, timeout=self.timeout))
            return self._client

    def _failed(self, error: ServiceError) -> None:
        """Remember a failure; of those that happen together, the first URL in order is the one
        reported, so that the same outage gives the same message."""
        with self._lock:
            if self.failure is None or (error.where or "") < (self.failure.where or ""):
                self.failure = error

    def _map(self, function: Callable[[_T], _R], items: Sequence[_T]) -> list[_R]:
        if len(items) == 1 or self.workers == 1:
            return [function(item) for item in items]
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(self.workers, len(items)), thread_name_prefix="gate-index") as pool:
            return list(pool.map(function, items))


def _within(age: dt.timedelta, limit: dt.timedelta) -> bool:
    """A cached answer of this age may be used: not from the future (a clock that went back),
    and no older than the limit."""
    return dt.timedelta(0) <= age <= limit
