"""``gate replay``: judge the recorded environment again, by the recorded policy, as of the recorded time.

The record keeps the manifest (what ``result.json`` keeps), so the environment is rebuilt the way
a ``--baseline`` result.json is. The sections whose inputs the manifest does not hold (licence
metadata, the index's answers, requirements, the drift baseline, the model files) cannot be judged again: their
recorded violations are carried over unchanged and said to be. What is replayed is everything
that depends on the package pins and the advisory data: vulnerabilities, denied packages, sources.
With the recorded database digest the outcome must be identical; with another database the
difference is the point.

The core is shared with ``gate monitor``: :func:`recorded_check` rebuilds what a record judged
(environment, replayable policy, recorded outcome) once, and :func:`reevaluate` judges it against an
open database as of any instant (replay: the recorded one; monitor: now, so waivers can expire)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gate.advisories import AdvisoryDatabase
from gate.clock import parse_instant
from gate.errors import SignatureError
from gate.model import DatabaseInfo, Decision, Environment
from gate.policy import Policy, policy_from_effective
from gate.policy.evaluate import evaluate
from gate.report.result import SCHEMA_VERSION, finding_document, violation_document
from gate.sources.baseline import read_result

NOT_REPLAYED = ("licenses", "registry", "consistency", "drift", "advisory_db", "models")
_FINDING_KEYS = ("id", "aliases", "package", "version", "severity", "score", "vector", "fixed_in", "fix",
                 "status", "uncertain", "waiver")


@dataclass(frozen=True, kw_only=True, slots=True)
class RecordedCheck:
    """What a record says was judged and decided, rebuilt so it can be judged again."""

    environment: Environment
    environment_digest: str | None  # as recorded
    policy: Policy  # the recorded effective policy, less the sections that cannot be replayed
    stage: str | None
    checked_at: dt.datetime
    verdict: str  # "pass" or "fail", as recorded
    db_digest: str | None  # of the database the decision used
    findings: tuple[dict[str, Any], ...]  # as recorded (finding_document)
    violations: tuple[dict[str, Any], ...]
    carried: tuple[dict[str, Any], ...]  # recorded violations of sections that cannot be replayed
    waivers: tuple[dict[str, Any], ...]  # the waivers in force (effective policy), as written


@dataclass(frozen=True, kw_only=True, slots=True)
class Reevaluation:
    """A recorded check judged again: the new decision, and what differs from the recorded one."""

    decision: Decision
    database: DatabaseInfo
    added: tuple[dict[str, Any], ...]  # findings/violations present now, not in the record
    removed: tuple[dict[str, Any], ...]  # in the record, not now
    carried: tuple[dict[str, Any], ...]
    verdict: str  # of the new decision together with the carried violations


@dataclass(frozen=True, kw_only=True, slots=True)
class ReplayResult:
    recorded_verdict: str
    verdict: str
    recorded_db_digest: str | None
    db_digest: str
    environment_digest_matches: bool
    added: tuple[dict[str, Any], ...]  # findings/violations present now, not in the record
    removed: tuple[dict[str, Any], ...]  # in the record, not now
    carried: tuple[dict[str, Any], ...]  # recorded violations of sections that cannot be replayed

    @property
    def same_database(self) -> bool:
        return self.recorded_db_digest == self.db_digest

    @property
    def reproduced(self) -> bool:
        return self.verdict == self.recorded_verdict and not self.added and not self.removed


def _comparable(item: dict[str, Any]) -> dict[str, Any]:
    """A finding or violation without its location (the replay reads from the record, not the lockfile)."""
    if "rule" in item:
        return {key: value for key, value in item.items() if key != "location"}
    return {key: item.get(key) for key in _FINDING_KEYS}


def _key(item: dict[str, Any]) -> str:
    import json

    return json.dumps(_comparable(item), sort_keys=True)


def _items(predicate: dict[str, Any], name: str, where: str) -> tuple[dict[str, Any], ...]:
    items = predicate.get(name, [])
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise SignatureError(f"predicate.{name} is not a list of objects", where=where)
    return tuple(items)


def recorded_check(statement: dict[str, Any], *, where: str,
                   policies: dict[str, Policy] | None = None) -> RecordedCheck:
    """Rebuild what ``statement`` (a decoded, checked record statement) judged.

    ``policies`` caches rebuilt policies by their effective form: a monitor run meets the same few
    policies in thousands of records, and validating each again would dominate its time."""
    import json

    predicate = statement["predicate"]
    policy_info = predicate.get("policy")
    environment_info = predicate.get("environment")
    if not isinstance(policy_info, dict) or not isinstance(policy_info.get("effective"), dict):
        raise SignatureError("predicate.policy.effective is missing", where=where)
    if not isinstance(environment_info, dict):
        raise SignatureError("predicate.environment is missing", where=where)
    environment = read_result(Path(where), {"schema_version": SCHEMA_VERSION, "decision": predicate["decision"],
                                            "environment": environment_info})
    effective = policy_info["effective"]
    replayable = {key: value for key, value in effective.items() if key not in NOT_REPLAYED}
    policy_path = str(policy_info.get("path") or where)
    cache_key = json.dumps([policy_path, replayable], sort_keys=True)
    policy = policies.get(cache_key) if policies is not None else None
    if policy is None:
        policy = policy_from_effective(replayable, path=policy_path)
        if policies is not None:
            policies[cache_key] = policy
    try:
        checked_at = parse_instant(str(predicate.get("checked_at")))
    except ValueError:
        raise SignatureError("predicate.checked_at is not a timestamp", where=where) from None
    violations = _items(predicate, "violations", where)
    recorded_db = predicate.get("advisory_db")
    vulnerabilities = effective.get("vulnerabilities")
    waivers = vulnerabilities.get("waivers") if isinstance(vulnerabilities, dict) else None
    stage = policy_info.get("stage")
    return RecordedCheck(
        environment=environment,
        environment_digest=environment_info.get("digest") if isinstance(environment_info.get("digest"), str) else None,
        policy=policy,
        stage=stage if isinstance(stage, str) else None,
        checked_at=checked_at,
        verdict=predicate["decision"],
        db_digest=recorded_db.get("digest") if isinstance(recorded_db, dict) else None,
        findings=_items(predicate, "findings", where),
        violations=violations,
        carried=tuple(v for v in violations if str(v.get("rule", "")).split(".")[0] in NOT_REPLAYED),
        waivers=tuple(w for w in waivers if isinstance(w, dict)) if isinstance(waivers, list) else (),
    )


def reevaluate(recorded: RecordedCheck, database: AdvisoryDatabase, *, now: dt.datetime,
               compare_findings: bool = True) -> Reevaluation:
    """Judge ``recorded`` again against ``database`` as of ``now``, and diff the outcome with the record's.

    ``compare_findings=False`` leaves findings out of ``added``/``removed`` (``gate monitor`` matches
    them itself, by shared advisory IDs), which spares documenting and keying every finding twice."""
    policy = recorded.policy
    info = database.info
    matches = database.matches(recorded.environment.packages) if policy.vulnerabilities is not None else []
    decision = evaluate(environment=recorded.environment, policy=policy, matches=matches,
                        database=info if policy.vulnerabilities is not None else None,
                        now=now if now.tzinfo else now.replace(tzinfo=dt.UTC))
    carried_keys = {_key(v) for v in recorded.carried}
    now_findings = [finding_document(f) for f in decision.findings] if compare_findings else []
    now_items = [*now_findings, *(violation_document(v) for v in decision.violations)]
    recorded_findings = recorded.findings if compare_findings else ()
    recorded_keys = {_key(item): item for item in (*recorded_findings, *recorded.violations)
                     if _key(item) not in carried_keys}
    now_keys = {_key(item): item for item in now_items}
    blocked = bool(decision.blocking) or any(item.get("status") == "blocking" for item in recorded.carried)
    return Reevaluation(
        decision=decision,
        database=info,
        added=tuple(now_keys[k] for k in sorted(set(now_keys) - set(recorded_keys))),
        removed=tuple(recorded_keys[k] for k in sorted(set(recorded_keys) - set(now_keys))),
        carried=recorded.carried,
        verdict="fail" if blocked else "pass",
    )


def replay(statement: dict[str, Any], database_path: Path, *, where: str) -> ReplayResult:
    """Re-evaluate ``statement`` (a decoded, checked record statement) against the database at ``database_path``,
    as of the recorded instant."""
    recorded = recorded_check(statement, where=where)
    with AdvisoryDatabase.open(database_path) as database:
        result = reevaluate(recorded, database, now=recorded.checked_at)
    return ReplayResult(
        recorded_verdict=recorded.verdict,
        verdict=result.verdict,
        recorded_db_digest=recorded.db_digest,
        db_digest=result.database.digest,
        environment_digest_matches=recorded.environment.digest == recorded.environment_digest,
        added=result.added,
        removed=result.removed,
        carried=result.carried,
    )
