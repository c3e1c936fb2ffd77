"""HTTP access to the approved index: PEP 691 JSON project pages and PEP 658 metadata files.
The only module of :mod:`gate.registry` that touches the network, imported only when a request
is needed (a check served from a warm cache never loads ``urllib.request``).

- Project pages are ``<index>/<normalised name>/``, asked for with
  ``Accept: application/vnd.pypi.simple.v1+json``. An answer in another content type (an index
  that only has the HTML API) is an error, not something to scrape: the gate reads what PEP 691
  defines. ``application/json`` is accepted too, for static trees served by plain file servers;
  either way the page must declare API version 1.x.
- 404 (and 410) mean the index has no such project: an answer, recorded as missing, not an
  error. 304 answers a conditional request (``If-None-Match`` / ``If-Modified-Since``).
- Everything else that is not a page is a :class:`~gate.errors.ServiceError` naming the URL:
  no connection, a timeout, a 5xx, a 401/403, a body that is not JSON or not a PEP 691 page.
  Connection failures, timeouts, 5xx and 429 are tried once more after a short pause (a
  transient blip should not cost a CI run); other statuses are not, as they will not change.
- Credentials in the index URL (``https://user:token@host/simple``) become a Basic
  ``Authorization`` header sent only to that host and never across a redirect; the URL that
  errors and reports show has them removed.
- Bodies are read up to a bound (a page of the largest PyPI projects is a few megabytes) and
  gzip is asked for and undone here, within the same bound.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import time
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass, field
from email.message import Message
from typing import Any
from urllib.parse import urlsplit

from gate.errors import ServiceError
from gate.network import USER_AGENT, describe_error
from gate.registry.facts import PageError, ReducedRelease, reduce_page, split_credentials

ACCEPT = "application/vnd.pypi.simple.v1+json"
JSON_CONTENT_TYPES = frozenset({ACCEPT, "application/json"})
DEFAULT_TIMEOUT = 15.0  # seconds without progress on one request
MAX_PAGE_BYTES = 128 * 1024 * 1024
MAX_METADATA_BYTES = 10 * 1024 * 1024
RETRY_DELAY = 0.25  # seconds before the one retry of a transient failure
_NOT_FOUND = frozenset({404, 410})


@dataclass(frozen=True, kw_only=True, slots=True)
class PageAnswer:
    """The index's answer for one project: ``status`` 200 (``releases`` holds the reduced page),
    304 (the cached page still holds) or 404 (no such project)."""

    url: str
    status: int
    releases: dict[str, ReducedRelease] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None


class _Transient(Exception):
    """A failure worth one more try; becomes a ServiceError when the retry fails too."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


@dataclass(frozen=True, kw_only=True, slots=True)
class _Raw:
    status: int
    headers: Message
    body: bytes


class IndexClient:
    """Requests to one index. Thread-safe: each request opens its own connection."""

    def __init__(self, index_url: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        clean, self._authorization = split_credentials(index_url)
        self.url = clean.rstrip("/")
        self._netloc = urlsplit(self.url).netloc.lower()
        self.timeout = timeout

    def project_url(self, project: str) -> str:
        return f"{self.url}/{project}/"

    def get_project(self, project: str, *, etag: str | None = None, last_modified: str | None = None) -> PageAnswer:
        """Fetch and reduce ``project``'s page, conditionally when validators are given."""
        url = self.project_url(project)
        headers = {"Accept": ACCEPT}
        if etag is not None:
            headers["If-None-Match"] = etag
        if last_modified is not None:
            headers["If-Modified-Since"] = last_modified
        raw = self._request(url, headers=headers, limit=MAX_PAGE_BYTES)
        if raw.status in _NOT_FOUND:
            return PageAnswer(url=url, status=404)
        etag, last_modified = raw.headers.get("ETag"), raw.headers.get("Last-Modified")
        if raw.status == 304:
            return PageAnswer(url=url, status=304, etag=etag, last_modified=last_modified)
        content_type = (raw.headers.get_content_type() if raw.headers.get("Content-Type") else "").lower()
        if content_type not in JSON_CONTENT_TYPES:
            shown = content_type or "no content type"
            raise ServiceError(f"the index answered {shown}, not the PEP 691 JSON API ({ACCEPT}); the registry "
                               "rules need an index that serves it", where=url)
        try:
            document: Any = json.loads(raw.body)
        except (ValueError, RecursionError) as error:
            raise ServiceError(f"the index's answer is not valid JSON ({_first_line(error)})", where=url) from None
        try:
            releases = reduce_page(document, project=project, page_url=url)
        except PageError as error:
            raise ServiceError(f"not a PEP 691 project page: {error}", where=url) from None
        return PageAnswer(url=url, status=200, releases=releases, etag=etag, last_modified=last_modified)

    def get_metadata(self, url: str, hashes: tuple[tuple[str, str], ...]) -> bytes | None:
        """A wheel's core metadata (PEP 658), checked against the hashes the index gave for it;
        ``None`` when the index does not serve it after all (404)."""
        raw = self._request(url, headers={}, limit=MAX_METADATA_BYTES)
        if raw.status in _NOT_FOUND:
            return None
        if raw.status != 200:
            raise ServiceError(f"unexpected HTTP {raw.status}", where=url)
        for algorithm, digest in hashes:
            if algorithm in hashlib.algorithms_guaranteed and hashlib.new(algorithm, raw.body).hexdigest() != digest:
                raise ServiceError(f"the metadata file does not match the {algorithm} digest the index gives for it",
                                   where=url)
        return raw.body

    # --- one request --------------------------------------------------------------------

    def _request(self, url: str, *, headers: dict[str, str], limit: int) -> _Raw:
        try:
            return self._once(url, headers=headers, limit=limit)
        except _Transient:
            time.sleep(RETRY_DELAY)
        try:
            return self._once(url, headers=headers, limit=limit)
        except _Transient as error:
            raise ServiceError(error.message, where=url) from None

    def _once(self, url: str, *, headers: dict[str, str], limit: int) -> _Raw:
        if urlsplit(url).scheme not in ("http", "https"):
            raise ServiceError("only http and https URLs can be fetched", where=url)
        request = urllib.request.Request(url, headers={
            "User-Agent": USER_AGENT, "Accept-Encoding": "gzip", **headers})
        if self._authorization is not None and urlsplit(url).netloc.lower() == self._netloc:
            request.add_unredirected_header("Authorization", self._authorization)
        try:
            response = urllib.request.urlopen(request, timeout=self.timeout)  # the scheme is checked above
        except urllib.error.HTTPError as error:
            with error:
                if error.code == 304 or error.code in _NOT_FOUND:
                    return _Raw(status=error.code, headers=error.headers, body=b"")
                if error.code >= 500 or error.code == 429:
                    raise _Transient(f"HTTP {error.code} {error.reason}") from None
                raise ServiceError(f"HTTP {error.code} {error.reason}", where=url) from None
        except urllib.error.URLError as error:
            raise _Transient(f"cannot connect: {describe_error(error.reason)}") from None
        except (http.client.HTTPException, OSError) as error:
            raise _Transient(f"cannot read the answer: {describe_error(error)}") from None
        with response:
            try:
                body = response.read(limit + 1)
            except (http.client.HTTPException, OSError) as error:
                raise _Transient(f"cannot read the answer: {describe_error(error)}") from None
            if len(body) > limit:
                raise ServiceError(f"the answer is larger than {limit} bytes", where=url)
            if (response.headers.get("Content-Encoding") or "").strip().lower() == "gzip":
                body = _gunzip(body, limit=limit, url=url)
            return _Raw(status=response.status, headers=response.headers, body=body)


def _gunzip(data: bytes, *, limit: int, url: str) -> bytes:
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        body = decompressor.decompress(data, limit + 1)
    except zlib.error as error:
        raise ServiceError(f"the answer is not valid gzip ({error})", where=url) from None
    if len(body) > limit or decompressor.unconsumed_tail:
        raise ServiceError(f"the answer is larger than {limit} bytes once decompressed", where=url)
    return body


def _first_line(error: BaseException) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__
