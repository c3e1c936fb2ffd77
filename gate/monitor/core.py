"""``gate monitor``: judge each environment again, by its recorded policy, against today's advisory
database and today's date, and say what changed since its decision.

The judging is :func:`gate.record.replay.reevaluate` (the same core as ``gate replay``); what this
module adds is the reading of the difference, per finding (matched to the recorded one by package,
version and any shared advisory ID, since a record and a newer database may name one vulnerability
differently):

``new``            a finding the decision did not have (a new advisory, or a wider range);
``now_blocking``   a recorded finding (waived or a warning) that blocks now (its waiver expired...);
``fix_available``  a recorded finding with no fixed version then that has one now;
``withdrawn``      a recorded finding whose advisory has since been withdrawn;
``no_longer_affected``  a recorded finding the current data no longer matches (range corrected);
``new_violation``  another rule's new violation (a denied package...);
``waiver_expired`` / ``waiver_expiring``  a waiver in the recorded policy past its date, or within N days.

An environment is *newly blocking* when one of its changes is blocking now and was not at its
decision; ``gate monitor`` exits 1 when that happens to an environment of a failing stage
(production by default)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gate.advisories import AdvisoryDatabase
from gate.clock import format_instant
from gate.record.replay import RecordedCheck, reevaluate
from gate.report.result import finding_document

MONITOR_VERSION = 1
KINDS = ("new", "now_blocking", "new_violation", "fix_available", "withdrawn", "no_longer_affected",
         "waiver_expired", "waiver_expiring")
_NEWLY_BLOCKING_KINDS = frozenset({"new", "now_blocking", "new_violation"})


@dataclass(frozen=True, kw_only=True, slots=True)
class Subject:
    """One environment to monitor: who it is, and what its record (or SBOM) says was decided."""

    repository: str
    stage: str
    name: str
    commit: str | None
    record: str  # the record's digest in the inventory, or the file given
    recorded: RecordedCheck

    def info(self) -> SubjectInfo:
        return SubjectInfo(repository=self.repository, stage=self.stage, name=self.name, commit=self.commit,
                           record=self.record, recorded_at=self.recorded.checked_at,
                           recorded_verdict=self.recorded.verdict)


@dataclass(frozen=True, kw_only=True, slots=True)
class SubjectInfo:
    """What a report keeps of its subject (not the environment itself: a run over thousands streams them)."""

    repository: str
    stage: str
    name: str
    commit: str | None
    record: str
    recorded_at: dt.datetime
    recorded_verdict: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Change:
    kind: str
    status: str | None  # now: blocking, waived, warning (None for a finding that went away / a waiver)
    recorded_status: str | None
    id: str | None = None
    aliases: tuple[str, ...] = ()
    package: str | None = None
    version: str | None = None
    severity: str | None = None
    fix: str | None = None
    detail: str = ""

    @property
    def newly_blocking(self) -> bool:
        return self.kind in _NEWLY_BLOCKING_KINDS and self.status == "blocking" and self.recorded_status != "blocking"

    def document(self) -> dict[str, Any]:
        return {"kind": self.kind, "status": self.status, "recorded_status": self.recorded_status, "id": self.id,
                "aliases": list(self.aliases), "package": self.package, "version": self.version,
                "severity": self.severity, "fix": self.fix, "detail": self.detail,
                "newly_blocking": self.newly_blocking}


@dataclass(frozen=True, kw_only=True, slots=True)
class EnvironmentReport:
    subject: SubjectInfo
    verdict: str  # of the judgement now
    changes: tuple[Change, ...]
    failing_stage: bool

    @property
    def newly_blocking(self) -> bool:
        return any(change.newly_blocking for change in self.changes)

    @property
    def fails_run(self) -> bool:
        return self.failing_stage and self.newly_blocking

    @property
    def key(self) -> str:
        """A stable identity, for the issue marker that lets a tracker update rather than duplicate."""
        import hashlib

        text = "\0".join((self.subject.repository, self.subject.stage, self.subject.name))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

    def document(self) -> dict[str, Any]:
        s = self.subject
        return {"repository": s.repository, "stage": s.stage, "environment": s.name, "commit": s.commit,
                "record": s.record, "recorded_at": format_instant(s.recorded_at),
                "recorded_decision": s.recorded_verdict, "decision_now": self.verdict,
                "newly_blocking": self.newly_blocking, "fails_run": self.fails_run, "key": self.key,
                "changes": [change.document() for change in self.changes]}


@dataclass(frozen=True, kw_only=True, slots=True)
class MonitorReport:
    checked_at: dt.datetime
    database: dict[str, Any]
    expiring_days: int
    failing_stages: tuple[str, ...]
    environments: tuple[EnvironmentReport, ...]
    notes: tuple[str, ...] = field(default=())

    @property
    def failed(self) -> bool:
        return any(report.fails_run for report in self.environments)

    @property
    def changed(self) -> tuple[EnvironmentReport, ...]:
        return tuple(report for report in self.environments if report.changes)

    def document(self) -> dict[str, Any]:
        return {
            "monitor_version": MONITOR_VERSION,
            "checked_at": format_instant(self.checked_at),
            "advisory_db": self.database,
            "expiring_days": self.expiring_days,
            "failing_stages": list(self.failing_stages),
            "summary": {
                "environments": len(self.environments),
                "changed": len(self.changed),
                "newly_blocking": sum(1 for r in self.environments if r.newly_blocking),
                "failing": sum(1 for r in self.environments if r.fails_run),
                **{kind: sum(1 for r in self.environments for c in r.changes if c.kind == kind) for kind in KINDS},
            },
            "environments": [report.document() for report in self.environments],
            "notes": list(self.notes),
        }


def monitor(subjects: Iterable[Subject], database: AdvisoryDatabase, *, now: dt.datetime, expiring_days: int,
            failing_stages: Iterable[str] = ("production",), notes: Iterable[str] = ()) -> MonitorReport:
    info = database.info
    withdrawn = database.withdrawn_ids()
    stages = tuple(sorted(set(failing_stages)))
    reports = [judge(subject, database, now=now, expiring_days=expiring_days, withdrawn=withdrawn,
                     failing_stages=stages) for subject in subjects]
    reports.sort(key=lambda r: (not r.fails_run, not r.newly_blocking, not r.changes, r.subject.repository,
                                r.subject.stage, r.subject.name, r.subject.record))
    return MonitorReport(
        checked_at=now, expiring_days=expiring_days, failing_stages=stages, environments=tuple(reports),
        database={"source": info.source, "digest": info.digest, "records": info.records,
                  "newest_modified": info.newest_modified, "imported_at": info.imported_at},
        notes=tuple(notes))


def judge(subject: Subject, database: AdvisoryDatabase, *, now: dt.datetime, expiring_days: int,
          withdrawn: Mapping[str, tuple[str, str]], failing_stages: tuple[str, ...]) -> EnvironmentReport:
    recorded = subject.recorded
    result = reevaluate(recorded, database, now=now, compare_findings=False)
    changes: list[Change] = []
    changes.extend(_finding_changes(recorded.findings, [finding_document(f) for f in result.decision.findings],
                                    withdrawn))
    for item in result.added:
        rule = item.get("rule")
        if rule is None or str(rule).startswith("vulnerabilities"):
            continue  # findings are compared above; waiver violations are the waiver lines below
        changes.append(Change(kind="new_violation", status=item.get("status"), recorded_status=None,
                              package=item.get("package"), version=item.get("version"),
                              detail=f"{rule}: {item.get('detail')}"))
    changes.extend(_waiver_changes(recorded.waivers, now=now, days=expiring_days))
    changes.sort(key=lambda c: (KINDS.index(c.kind), c.package or "", c.version or "", c.id or "", c.detail))
    return EnvironmentReport(subject=subject.info(), verdict=result.verdict, changes=tuple(changes),
                             failing_stage=subject.stage in failing_stages)


def _ids(item: Mapping[str, Any]) -> frozenset[str]:
    raw = item.get("aliases")
    aliases: list[Any] = raw if isinstance(raw, list) else []
    return frozenset(str(i) for i in (item.get("id"), *aliases) if i)


def _finding_changes(recorded: Iterable[Mapping[str, Any]], current: list[dict[str, Any]],
                     withdrawn: Mapping[str, tuple[str, str]]) -> list[Change]:
    pending = [(item, _ids(item)) for item in recorded]
    changes: list[Change] = []
    for item in current:
        ids = _ids(item)
        found = next((index for index, (old, old_ids) in enumerate(pending)
                      if old.get("package") == item.get("package") and old.get("version") == item.get("version")
                      and ids & old_ids), None)
        base: dict[str, Any] = {"id": item.get("id"), "aliases": tuple(item.get("aliases") or ()),
                                "package": item.get("package"), "version": item.get("version"),
                                "severity": item.get("severity"), "fix": item.get("fix")}
        if found is None:
            fix = f"; fixed in {item['fix']}" if item.get("fix") else "; no fixed version yet"
            changes.append(Change(kind="new", status=item.get("status"), recorded_status=None,
                                  detail=f"{item.get('summary') or 'new advisory'}{fix}", **base))
            continue
        old, _ = pending.pop(found)
        if item.get("status") == "blocking" and old.get("status") != "blocking":
            why = "its waiver no longer applies" if old.get("waiver") else "the policy now blocks it"
            changes.append(Change(kind="now_blocking", status="blocking", recorded_status=old.get("status"),
                                  detail=f"was {old.get('status')} at the decision; {why}", **base))
        if not old.get("fix") and item.get("fix"):
            changes.append(Change(kind="fix_available", status=item.get("status"), recorded_status=old.get("status"),
                                  detail=f"a fixed version exists now: upgrade to {item['fix']}", **base))
    for old, old_ids in pending:
        base = {"id": old.get("id"), "aliases": tuple(old.get("aliases") or ()), "package": old.get("package"),
                "version": old.get("version"), "severity": old.get("severity"), "fix": None}
        hit = next((withdrawn[i] for i in sorted(old_ids) if i in withdrawn), None)
        if hit is not None:
            changes.append(Change(kind="withdrawn", status=None, recorded_status=old.get("status"),
                                  detail=f"advisory {hit[0]} was withdrawn ({hit[1]})", **base))
        else:
            changes.append(Change(kind="no_longer_affected", status=None, recorded_status=old.get("status"),
                                  detail="the current advisory data no longer lists this version as affected",
                                  **base))
    return changes


def _waiver_changes(waivers: Iterable[Mapping[str, Any]], *, now: dt.datetime, days: int) -> list[Change]:
    today = now.astimezone(dt.UTC).date()
    changes = []
    for waiver in waivers:
        try:
            expires = dt.date.fromisoformat(str(waiver.get("expires")))
        except ValueError:
            continue  # the recorded policy was validated; an unreadable date cannot come from the gate
        left = (expires - today).days
        who = f"{waiver.get('owner')}: {waiver.get('reason')}"
        if expires < today:
            changes.append(Change(kind="waiver_expired", status=None, recorded_status=None, id=waiver.get("id"),
                                  package=waiver.get("package"),
                                  detail=f"expired {expires.isoformat()} ({-left} days ago); {who}"))
        elif left <= days:
            changes.append(Change(kind="waiver_expiring", status=None, recorded_status=None, id=waiver.get("id"),
                                  package=waiver.get("package"),
                                  detail=f"expires {expires.isoformat()} (in {left} days); {who}"))
    return changes
