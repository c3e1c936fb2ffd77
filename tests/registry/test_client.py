"""The HTTP client against a real index served on loopback (tests/registry/helpers.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gate.errors import ServiceError
from gate.registry import client as client_module
from gate.registry.client import ACCEPT, IndexClient
from tests.registry.helpers import IndexServer, metadata_text, refused_url, sha256


@pytest.fixture
def index(tmp_path: Path) -> Iterator[IndexServer]:
    with IndexServer(tmp_path / "index") as server:
        server.tree.add("demo", "demo-1.0.tar.gz", uploaded="2025-03-02T10:00:00.000000Z")
        server.tree.add("demo", "demo-1.0-py3-none-any.whl", uploaded="2025-03-01T10:00:00.000000Z",
                        metadata=metadata_text("demo", "1.0", license_expression="MIT"))
        yield server


@pytest.fixture(autouse=True)
def no_retry_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client_module, "RETRY_DELAY", 0.0)


def test_project_page_is_fetched_as_pep691_json(index: IndexServer) -> None:
    client = IndexClient(index.index_url + "/")
    answer = client.get_project("demo")
    assert answer.status == 200
    assert answer.url == f"{index.index_url}/demo/"
    assert answer.releases == {"1": {
        "uploaded": "2025-03-01T10:00:00Z", "yanked": None,
        "hashes": sorted(f"sha256:{sha256(name)}" for name in ("demo-1.0.tar.gz", "demo-1.0-py3-none-any.whl")),
        "metadata": {"url": f"{index.url}/files/demo-1.0-py3-none-any.whl.metadata",
                     "hashes": [f"sha256:{sha256(metadata_text('demo', '1.0', license_expression='MIT'))}"]},
    }}
    assert answer.etag is not None
    [request] = index.requests
    assert request.path == "/simple/demo/"
    assert request.headers["accept"] == ACCEPT
    assert request.headers["user-agent"].startswith("promotion-gate/")
    assert "authorization" not in request.headers


def test_unknown_project_is_an_answer(index: IndexServer) -> None:
    answer = IndexClient(index.index_url).get_project("ghost")
    assert (answer.status, answer.releases) == (404, {})


def test_conditional_requests(index: IndexServer) -> None:
    client = IndexClient(index.index_url)
    first = client.get_project("demo")
    again = client.get_project("demo", etag=first.etag)
    assert (again.status, again.releases) == (304, {})
    assert index.requests[1].headers["if-none-match"] == first.etag
    index.state.etags = False
    index.state.last_modified = "Wed, 25 Nov 2026 10:00:00 GMT"
    assert client.get_project("demo", last_modified="Wed, 25 Nov 2026 10:00:00 GMT").status == 304
    changed = client.get_project("demo", last_modified="Tue, 24 Nov 2026 10:00:00 GMT")
    assert (changed.status, changed.last_modified) == (200, "Wed, 25 Nov 2026 10:00:00 GMT")


def test_gzip_answers_are_decoded(index: IndexServer) -> None:
    index.state.gzip = True
    assert IndexClient(index.index_url).get_project("demo").status == 200
    assert index.requests[0].headers["accept-encoding"] == "gzip"


def test_an_html_only_index_is_refused(index: IndexServer) -> None:
    index.state.content_type = "text/html; charset=utf-8"
    with pytest.raises(ServiceError) as raised:
        IndexClient(index.index_url).get_project("demo")
    assert raised.value.diagnostic() == (
        f"{index.index_url}/demo/: the index answered text/html, not the PEP 691 JSON API "
        "(application/vnd.pypi.simple.v1+json); the registry rules need an index that serves it")


def test_plain_json_content_type_is_accepted(index: IndexServer) -> None:
    index.state.content_type = "application/json"
    assert IndexClient(index.index_url).get_project("demo").status == 200


def test_not_json_and_not_a_page(index: IndexServer) -> None:
    (index.tree.root / "simple" / "broken").mkdir()
    (index.tree.root / "simple" / "broken" / "index.json").write_text("{oops", encoding="utf-8")
    index.tree.write_page("odd", {"meta": {"api-version": "1.0"}, "files": [{"filename": "odd-1.0.tar.gz"}]})
    client = IndexClient(index.index_url)
    with pytest.raises(ServiceError) as raised:
        client.get_project("broken")
    assert raised.value.diagnostic() == (
        f"{index.index_url}/broken/: the index's answer is not valid JSON "
        "(Expecting property name enclosed in double quotes: line 1 column 2 (char 1))")
    with pytest.raises(ServiceError) as raised:
        client.get_project("odd")
    assert raised.value.diagnostic() == (
        f"{index.index_url}/odd/: not a PEP 691 project page: files[0].url: missing or not a string")


def test_server_errors_are_retried_once(index: IndexServer) -> None:
    index.state.fail_with, index.state.fail_times = 503, 1
    assert IndexClient(index.index_url).get_project("demo").status == 200
    assert len(index.requests) == 2
    index.state.fail_with, index.state.fail_times = 503, None
    with pytest.raises(ServiceError) as raised:
        IndexClient(index.index_url).get_project("demo")
    assert raised.value.diagnostic() == f"{index.index_url}/demo/: HTTP 503 Service Unavailable"
    assert len(index.requests) == 4


def test_refusals_are_not_retried(index: IndexServer) -> None:
    index.state.fail_with = 403
    with pytest.raises(ServiceError) as raised:
        IndexClient(index.index_url).get_project("demo")
    assert raised.value.diagnostic() == f"{index.index_url}/demo/: HTTP 403 Forbidden"
    assert len(index.requests) == 1


def test_unreachable_index() -> None:
    with refused_url() as url, pytest.raises(ServiceError) as raised:
        IndexClient(url).get_project("demo")
    assert raised.value.diagnostic() == f"{url}/demo/: cannot connect: Connection refused"


def test_timeout(index: IndexServer) -> None:
    index.state.delay = 0.5
    with pytest.raises(ServiceError) as raised:
        IndexClient(index.index_url, timeout=0.1).get_project("demo")
    assert raised.value.diagnostic() == f"{index.index_url}/demo/: cannot read the answer: timed out"


def test_oversized_answers(index: IndexServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client_module, "MAX_PAGE_BYTES", 100)
    with pytest.raises(ServiceError) as raised:
        IndexClient(index.index_url).get_project("demo")
    assert raised.value.diagnostic() == f"{index.index_url}/demo/: the answer is larger than 100 bytes"
    index.state.gzip = True  # about 2 kB on the wire, 9 kB once decompressed
    for release in range(2, 40):
        index.tree.add("demo", f"demo-{release}.0.tar.gz")
    monkeypatch.setattr(client_module, "MAX_PAGE_BYTES", 4000)
    with pytest.raises(ServiceError) as raised:
        IndexClient(index.index_url).get_project("demo")
    assert raised.value.diagnostic() == (
        f"{index.index_url}/demo/: the answer is larger than 4000 bytes once decompressed")


def test_credentials_go_to_the_index_only_and_never_into_messages(index: IndexServer) -> None:
    index.state.require_auth = "Basic Y2k6czNjcmV0"  # ci:s3cret
    authorised = index.index_url.replace("http://", "http://ci:s3cret@")
    client = IndexClient(authorised)
    assert client.url == index.index_url
    assert client.get_project("demo").status == 200
    with pytest.raises(ServiceError) as raised:
        IndexClient(index.index_url).get_project("demo")
    assert raised.value.diagnostic() == f"{index.index_url}/demo/: HTTP 401 Unauthorized"
    assert "s3cret" not in raised.value.diagnostic()


def test_metadata_is_checked_against_its_hash(index: IndexServer) -> None:
    client = IndexClient(index.index_url)
    text = metadata_text("demo", "1.0", license_expression="MIT")
    url = f"{index.url}/files/demo-1.0-py3-none-any.whl.metadata"
    assert client.get_metadata(url, (("sha256", sha256(text)),)) == text.encode()
    assert client.get_metadata(url, (("blake3", "00"),)) == text.encode()  # an algorithm it cannot check
    with pytest.raises(ServiceError) as raised:
        client.get_metadata(url, (("sha256", "00"),))
    assert raised.value.diagnostic() == (
        f"{url}: the metadata file does not match the sha256 digest the index gives for it")
    assert client.get_metadata(f"{index.url}/files/nothing.whl.metadata", ()) is None


def test_only_http_urls(index: IndexServer) -> None:
    with pytest.raises(ServiceError) as raised:
        IndexClient(index.index_url).get_metadata("file:///etc/passwd", ())
    assert raised.value.diagnostic() == "file:///etc/passwd: only http and https URLs can be fetched"
