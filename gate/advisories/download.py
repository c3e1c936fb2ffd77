"""Fetching OSV's PyPI export: the one module of the advisory package that uses the network.

The archive is written to a temporary file beside ``dest`` and renamed into place only when
it arrived whole, so a dropped connection never leaves a truncated zip for the import to trip
over (or, worse, to half-read)."""

from __future__ import annotations

import http.client
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from gate.errors import ServiceError
from gate.network import USER_AGENT, describe_error

OSV_PYPI_ALL_ZIP = "https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip"
DEFAULT_TIMEOUT = 60.0  # seconds without a byte before giving up
MAX_DOWNLOAD_BYTES = 2 * 1024 * 1024 * 1024
_CHUNK = 1024 * 1024

Progress = Callable[[int, int | None], None]  # (bytes received, total if the server said)


def download(url: str, dest: Path, *, progress: Progress | None = None, timeout: float = DEFAULT_TIMEOUT) -> None:
    """Download ``url`` to ``dest``. Any failure to get the whole response is a
    :class:`~gate.errors.ServiceError` naming the URL; ``dest`` is then left untouched."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise ServiceError("only http and https URLs can be downloaded", where=url)
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)  # the scheme is checked above
    except urllib.error.HTTPError as error:
        raise ServiceError(f"HTTP {error.code} {error.reason}", where=url) from None
    except urllib.error.URLError as error:
        raise ServiceError(f"cannot connect: {error.reason}", where=url) from None
    except (http.client.HTTPException, OSError) as error:
        raise ServiceError(f"cannot download: {describe_error(error)}", where=url) from None
    with response:
        total = _content_length(response.headers.get("Content-Length"))
        if total is not None and total > MAX_DOWNLOAD_BYTES:
            raise ServiceError(f"response of {total} bytes is larger than {MAX_DOWNLOAD_BYTES} bytes", where=url)
        dest.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
        temporary = Path(name)
        try:
            with os.fdopen(handle, "wb") as out:
                received = 0
                while True:
                    try:
                        chunk = response.read(_CHUNK)
                    except (http.client.HTTPException, OSError) as error:
                        raise ServiceError(f"download interrupted after {received} bytes: {describe_error(error)}",
                                           where=url) from None
                    if not chunk:
                        break
                    received += len(chunk)
                    if received > MAX_DOWNLOAD_BYTES:
                        raise ServiceError(f"response is larger than {MAX_DOWNLOAD_BYTES} bytes", where=url)
                    out.write(chunk)
                    if progress is not None:
                        progress(received, total)
                if total is not None and received != total:
                    raise ServiceError(f"connection closed after {received} of {total} bytes", where=url)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, dest)
        finally:
            temporary.unlink(missing_ok=True)


def _content_length(value: str | None) -> int | None:
    if value is None or not value.strip().isdigit():
        return None
    return int(value)
