"""`gate monitor` end to end: records judged against a later database and a later date report new
findings, fixes, withdrawals and waivers; exit 1 only for a newly blocked production environment; the
webhook gets the JSON document; SBOMs and record files work as inputs; hostile names are escaped."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import shutil
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from gate.advisories import import_database
from tests.conftest import SNAPSHOT_YAML_ZIP, Run
from tests.inventory.helpers import ci, decide, lockfile, new_key, public_key_file, write_record
from tests.loopback import Loopback, StatefulServer

Gate = Callable[..., Run]
IMPORTED = dt.datetime(2026, 11, 25, tzinfo=dt.UTC)


def _osv(folder: Path, identifier: str, *, fixed: str | None = None, withdrawn: str | None = None,
         aliases: tuple[str, ...] = (), summary: str = "") -> None:
    events: list[dict[str, str]] = [{"introduced": "0"}]
    if fixed:
        events.append({"fixed": fixed})
    record: dict[str, Any] = {
        "id": identifier, "modified": "2026-11-20T00:00:00Z", "published": "2026-11-01T00:00:00Z",
        "aliases": list(aliases), "summary": summary or f"{identifier} in demo-lib",
        "affected": [{"package": {"ecosystem": "PyPI", "name": "demo-lib"},
                      "ranges": [{"type": "ECOSYSTEM", "events": events}]}],
        "database_specific": {"severity": "HIGH"},
    }
    if withdrawn:
        record["withdrawn"] = withdrawn
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{identifier}.json").write_text(json.dumps(record))


@pytest.fixture
def world(tmp_path: Path) -> dict[str, Path]:
    """Two databases a week apart, a production record made with the first, in an inventory."""
    then, now = tmp_path / "osv-then", tmp_path / "osv-now"
    _osv(then, "TEST-A")  # no fix yet
    _osv(then, "TEST-W", aliases=("CVE-2026-9999",))  # waived, later withdrawn
    _osv(now, "TEST-A", fixed="1.1")
    _osv(now, "TEST-W", aliases=("CVE-2026-9999",), withdrawn="2026-11-24T00:00:00Z")
    _osv(now, "TEST-N", fixed="1.2", summary="new | <b>hostile</b> @org/team summary")
    import_database(then, tmp_path / "then.sqlite3", now=IMPORTED)
    import_database(now, tmp_path / "now.sqlite3", now=IMPORTED + dt.timedelta(days=7))
    policy = tmp_path / "policy.yml"
    policy.write_text("stage: production\nvulnerabilities:\n  block_at: low\n  unknown_severity: block\n"
                      "  waivers:\n    - {id: CVE-2026-9999, package: demo-lib, reason: not reachable, "
                      "owner: sec@example.com, expires: 2026-12-05}\n")
    key = new_key()
    pub = public_key_file(tmp_path, key)
    requirements = lockfile(tmp_path, "requirements.txt", "demo-lib==1.0\n")
    record = write_record(tmp_path / "record.dsse.json", decide(requirements, policy, tmp_path / "then.sqlite3"),
                          key, environ=ci("org/fraud-model", "abc123"))
    return {"then": tmp_path / "then.sqlite3", "now": tmp_path / "now.sqlite3", "policy": policy, "pub": pub,
            "record": record, "requirements": requirements}


def _inventory(gate: Gate, location: str, world: dict[str, Path], *extra: str) -> None:
    run = gate("inventory", "add", world["record"], "--key", world["pub"], "--inventory", location, *extra)
    assert run.code == 0, run.err


def _changes(document: dict[str, Any]) -> list[tuple[str, str | None, str | None, bool]]:
    (environment,) = document["environments"]
    return [(c["kind"], c["id"], c["status"], c["newly_blocking"]) for c in environment["changes"]]


def test_same_database_same_day_reports_nothing(gate: Gate, inventory_location: str,
                                                world: dict[str, Path]) -> None:
    _inventory(gate, inventory_location, world)
    run = gate("monitor", "--inventory", inventory_location, "--db", world["then"], "--now", "2026-11-26T12:00:00Z",
               "--expiring-days", "3", "--format", "json")
    assert run.code == 0, run.err
    document = json.loads(run.out)
    assert _changes(document) == []
    assert document["summary"]["environments"] == 1 and document["summary"]["changed"] == 0


def test_newer_database_new_finding_fix_and_withdrawal(gate: Gate, inventory_location: str,
                                                       world: dict[str, Path]) -> None:
    _inventory(gate, inventory_location, world)
    run = gate("monitor", "--inventory", inventory_location, "--db", world["now"], "--now", "2026-11-28T00:00:00Z",
               "--format", "json")
    assert run.code == 1, run.err  # production, and TEST-N blocks now
    document = json.loads(run.out)
    assert _changes(document) == [
        ("new", "TEST-N", "blocking", True),
        ("fix_available", "TEST-A", "blocking", False),
        ("withdrawn", "TEST-W", None, False),
        ("waiver_expiring", "CVE-2026-9999", None, False),
    ]
    (environment,) = document["environments"]
    assert (environment["repository"], environment["stage"], environment["commit"]) == \
        ("org/fraud-model", "production", "abc123")
    assert (environment["recorded_decision"], environment["decision_now"], environment["fails_run"]) == \
        ("fail", "fail", True)
    details = {c["kind"]: c["detail"] for c in environment["changes"]}
    assert details["fix_available"] == "a fixed version exists now: upgrade to 1.1"
    assert details["withdrawn"] == "advisory TEST-W was withdrawn (2026-11-24T00:00:00Z)"
    assert details["waiver_expiring"] == "expires 2026-12-05 (in 7 days); sec@example.com: not reachable"
    assert document["summary"]["failing"] == 1 and document["summary"]["new"] == 1

    markdown = gate("monitor", "--inventory", inventory_location, "--db", world["now"], "--now",
                    "2026-11-28T00:00:00Z")
    assert markdown.code == 1
    assert "## org/fraud-model · production · " in markdown.out and "— newly blocked" in markdown.out
    assert "| New finding | [TEST-N](https://osv.dev/vulnerability/TEST-N) | demo-lib 1.0 | **blocking** |" \
        in markdown.out
    assert "<b>" not in markdown.out and "@org" not in markdown.out and "new &#124; &lt;b&gt;hostile" in markdown.out


def test_expired_waiver_blocks_a_production_environment(gate: Gate, inventory_location: str,
                                                       world: dict[str, Path]) -> None:
    _inventory(gate, inventory_location, world)
    run = gate("monitor", "--inventory", inventory_location, "--db", world["then"], "--now", "2026-12-10T00:00:00Z",
               "--format", "json")
    assert run.code == 1
    assert _changes(json.loads(run.out)) == [
        ("now_blocking", "TEST-W", "blocking", True),
        ("waiver_expired", "CVE-2026-9999", None, False),
    ]
    # not a failing stage: reported, exit 0
    staging = gate("monitor", "--inventory", inventory_location, "--db", world["then"], "--now",
                   "2026-12-10T00:00:00Z", "--fail-stage", "staging", "--format", "json")
    assert staging.code == 0
    assert json.loads(staging.out)["summary"]["newly_blocking"] == 1


def test_record_files_sbom_and_out_file(gate: Gate, tmp_path: Path, world: dict[str, Path],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GATE_SIGNING_KEY", raising=False)
    out = tmp_path / "check"
    check = gate("check", "--lockfile", world["requirements"], "--policy", world["policy"], "--db", world["then"],
                 "--out", out, "--now", "2026-11-26T00:00:00Z")
    assert check.code == 1, check.err
    report = tmp_path / "monitor.json"
    run = gate("monitor", world["record"], out / "sbom.cdx.json", "--key", world["pub"], "--policy", world["policy"],
               "--db", world["now"], "--now", "2026-11-28T00:00:00Z", "--format", "json", "--out", report)
    assert run.code == 1, run.err
    assert run.out == (f"monitor: 2 environment(s), 2 changed, 2 newly blocking, 2 of a failing stage; "
                       f"report: {report}\n")
    document = json.loads(report.read_text())
    by_record = {e["record"]: [(c["kind"], c["id"]) for c in e["changes"]] for e in document["environments"]}
    assert by_record[str(world["record"])] == [("new", "TEST-N"), ("fix_available", "TEST-A"),
                                               ("withdrawn", "TEST-W"), ("waiver_expiring", "CVE-2026-9999")]
    # the SBOM lists the findings of its check (TEST-A, TEST-W waived): only TEST-N is new
    assert by_record[str(out / "sbom.cdx.json")] == [("new", "TEST-N"), ("fix_available", "TEST-A"),
                                                     ("withdrawn", "TEST-W"), ("waiver_expiring", "CVE-2026-9999")]
    unverified = gate("monitor", world["record"], "--db", world["now"], "--now", "2026-11-28T00:00:00Z")
    assert unverified.err == (f"gate: note: {world['record']}: the record's signature was not checked "
                              "(give --key to check it)\n")
    other = public_key_file(tmp_path / "other", new_key())
    forged = gate("monitor", world["record"], "--key", other, "--db", world["now"])
    assert forged.code == 5


@dataclass
class _Received:
    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    status: int = 204


class _Receiver(http.server.BaseHTTPRequestHandler):
    server: StatefulServer

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        state: _Received = self.server.state
        state.requests.append((self.path, dict(self.headers), body))
        self.send_response(state.status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, _Received]]:
    received = _Received()
    with Loopback(_Receiver, received) as server:
        yield server.url, received


def test_webhook_gets_the_json_report(gate: Gate, tmp_path: Path, world: dict[str, Path],
                                      receiver: tuple[str, _Received]) -> None:
    url, received = receiver
    location = str(tmp_path / "inventory.sqlite3")
    _inventory(gate, location, world)
    args = ("monitor", "--inventory", location, "--db", world["now"], "--now", "2026-11-28T00:00:00Z")
    run = gate(*args, "--webhook", f"{url}/hooks/gate?token=s3cret")
    assert run.code == 1, run.err
    ((path, headers, body),) = received.requests
    assert path == "/hooks/gate?token=s3cret"
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["User-Agent"].startswith("promotion-gate/")
    assert json.loads(body) == json.loads(gate(*args, "--format", "json").out)
    received.status = 500
    failed = gate(*args, "--webhook", f"{url}/hooks/gate?token=s3cret")
    assert failed.code == 6
    assert failed.err == f"gate: error: {url}/hooks/gate: webhook answered HTTP 500 Internal Server Error\n"


def test_issue_per_environment_has_a_stable_marker(tmp_path: Path, world: dict[str, Path]) -> None:
    from gate.advisories import AdvisoryDatabase
    from gate.monitor import monitor
    from gate.monitor.inputs import from_record
    from gate.monitor.notify import Issue, IssueNotifier
    from gate.record import load_public_key

    class Recorder:
        def __init__(self) -> None:
            self.issues: dict[str, Issue] = {}

        def upsert(self, issue: Issue) -> None:
            self.issues[issue.marker] = issue

    sink = Recorder()
    subject, _ = from_record(world["record"], [load_public_key(world["pub"])])
    for day in (28, 29):
        with AdvisoryDatabase.open(world["now"]) as database:
            report = monitor([subject], database, now=dt.datetime(2026, 11, day, tzinfo=dt.UTC), expiring_days=14)
        IssueNotifier(sink).send(report)
    (issue,) = sink.issues.values()
    assert issue.marker.startswith("<!-- promotion-gate:monitor:") and issue.body.startswith(issue.marker)
    assert issue.title == (f"Promotion Gate: org/fraud-model · production · {world['requirements']} is now blocked")
    assert "expires 2026-12-05 \\(in 6 days\\)" in issue.body  # the second run's body replaced the first


def test_snapshot_minus_an_advisory_then_the_full_snapshot(gate: Gate, tmp_path: Path, snapshot_db: Path) -> None:
    """A record made with a database that lacked PYSEC-2023-74 (requests, CVE-2023-32681) is reported as
    newly affected once the database holds it."""
    if not SNAPSHOT_YAML_ZIP.is_file():
        pytest.skip("../shared/advisories is absent")
    removed = "vulns/requests/PYSEC-2023-74.yaml"
    filtered = tmp_path / "snapshot-minus.zip"
    with zipfile.ZipFile(SNAPSHOT_YAML_ZIP) as source, zipfile.ZipFile(filtered, "w", zipfile.ZIP_DEFLATED) as out:
        names = [info for info in source.infolist() if info.filename != removed]
        assert len(names) == len(source.infolist()) - 1
        for info in names:
            out.writestr(info, source.read(info))
    older = tmp_path / "older.sqlite3"
    assert gate("db", "import", filtered, "--db", older, "--now", "2026-07-24T00:00:00Z").code == 0
    policy = tmp_path / "policy.yml"
    policy.write_text("stage: production\nvulnerabilities: {block_at: low, unknown_severity: block}\n")
    key = new_key()
    pub = public_key_file(tmp_path, key)
    requirements = lockfile(tmp_path, "requirements.txt", "requests==2.30.0\ncertifi==2024.7.4\n")
    record = write_record(tmp_path / "record.dsse.json", decide(requirements, policy, older), key,
                          environ=ci("org/search", "5eed"))
    statement = json.loads(__import__("base64").b64decode(json.loads(record.read_text())["payload"]))
    assert all("CVE-2023-32681" not in f["aliases"] for f in statement["predicate"]["findings"])
    location = str(tmp_path / "inventory.sqlite3")
    assert gate("inventory", "add", record, "--key", pub, "--inventory", location).code == 0
    assert gate("monitor", "--inventory", location, "--db", older, "--now", "2026-07-25T00:00:00Z").code == 0
    run = gate("monitor", "--inventory", location, "--db", snapshot_db, "--now", "2026-07-25T00:00:00Z",
               "--format", "json")
    assert run.code == 1, run.err
    changes = json.loads(run.out)["environments"][0]["changes"]
    assert [(c["kind"], c["id"], c["package"], c["version"], c["status"]) for c in changes] == [
        ("new", "PYSEC-2023-74", "requests", "2.30.0", "blocking")]
    assert "CVE-2023-32681" in changes[0]["aliases"] and changes[0]["fix"] == "2.31.0"
    shutil.rmtree(tmp_path / "unused", ignore_errors=True)


@pytest.mark.parametrize("forge", ["github", "gitlab"])
def test_monitor_opens_one_issue_per_changed_environment_then_updates_it(
        gate: Gate, tmp_path: Path, world: dict[str, Path], monkeypatch: pytest.MonkeyPatch, forge: str) -> None:
    from tests.ci.forge_server import GITHUB_TOKEN, GITLAB_TOKEN, ForgeServer

    with ForgeServer() as server:
        settings = ({"GITHUB_TOKEN": GITHUB_TOKEN, "GITHUB_API_URL": server.url, "GITHUB_REPOSITORY": "acme/app"}
                    if forge == "github" else
                    {"GATE_GITLAB_TOKEN": GITLAB_TOKEN, "CI_API_V4_URL": server.gitlab_url, "CI_PROJECT_ID": "5"})
        for name, value in settings.items():
            monkeypatch.setenv(name, value)
        args = ("monitor", world["record"], "--key", world["pub"], "--db", world["now"], "--issues", forge)
        first = gate(*args, "--now", "2026-11-28T00:00:00Z")
        assert (first.code, first.err.splitlines()[-1]) == (1, "monitor: issues opened: 1, updated: 0"), first.err
        (opened,) = server.state.issues
        text = "body" if forge == "github" else "description"
        author = opened["user"]["login"] if forge == "github" else opened["author"]["username"]
        assert author == ("gate-bot" if forge == "github" else "project_5_bot")
        marker = opened[text].splitlines()[0]
        assert marker.startswith("<!-- promotion-gate:monitor:")
        assert opened["title"].endswith(" is now blocked")
        # Someone else's issue quoting the marker is never touched.
        server.state.issues.append({**opened, "number" if forge == "github" else "iid": 90, "id": 90,
                                    text: f"{marker}\nquoted by a person",
                                    **({"user": {"login": "mallory"}} if forge == "github"
                                       else {"author": {"id": 5, "username": "mallory"}})})
        second = gate(*args, "--now", "2026-11-29T00:00:00Z")
        assert (second.code, second.err.splitlines()[-1]) == (1, "monitor: issues opened: 0, updated: 1")
        assert len(server.state.issues) == 2
        assert "\\(in 6 days\\)" in server.state.issues[0][text]  # the later run's text replaced the first
        assert server.state.issues[1][text] == f"{marker}\nquoted by a person"
