"""``gate replay``: judge the recorded environment again, by the recorded policy, as of the recorded time.

The record keeps the manifest (what ``result.json`` keeps), so the environment is rebuilt the way
a ``--baseline`` result.json is. The sections whose inputs the manifest does not hold (licence
metadata, the index's answers, requirements, the drift baseline, the model files) cannot be judged again: their
recorded violations are carried over unchanged and said to be. What is replayed is everything
that depends on the package pins and the advisory data: vulnerabilities, denied packages, sources.
With the recorded database digest the outcome must be identical; with another database the
difference is the point."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gate.advisories import AdvisoryDatabase
from gate.clock import parse_instant
from gate.errors import SignatureError
from gate.policy import policy_from_effective
from gate.policy.evaluate import evaluate
from gate.report.result import SCHEMA_VERSION, finding_document, violation_document
from gate.sources.baseline import read_result

NOT_REPLAYED = ("licenses", "registry", "consistency", "drift", "advisory_db", "models")
_FINDING_KEYS = ("id", "aliases", "package", "version", "severity", "score", "vector", "fixed_in", "fix",
                 "status", "uncertain", "waiver")


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


def replay(statement: dict[str, Any], database_path: Path, *, where: str) -> ReplayResult:
    """Re-evaluate ``statement`` (a decoded, checked record statement) against the database at ``database_path``."""
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
    policy = policy_from_effective(replayable, path=str(policy_info.get("path") or where))
    try:
        now = parse_instant(str(predicate.get("checked_at")))
    except ValueError:
        raise SignatureError("predicate.checked_at is not a timestamp", where=where) from None
    with AdvisoryDatabase.open(database_path) as database:
        info = database.info
        matches = database.matches(environment.packages) if policy.vulnerabilities is not None else []
    decision = evaluate(environment=environment, policy=policy, matches=matches,
                        database=info if policy.vulnerabilities is not None else None,
                        now=now if now.tzinfo else now.replace(tzinfo=dt.UTC))
    recorded_items = [*predicate.get("findings", []), *predicate.get("violations", [])]
    carried = [v for v in predicate.get("violations", []) if str(v.get("rule", "")).split(".")[0] in NOT_REPLAYED]
    carried_keys = {_key(v) for v in carried}
    now_items = [*(finding_document(f) for f in decision.findings),
                 *(violation_document(v) for v in decision.violations)]
    recorded_keys = {_key(item): item for item in recorded_items if _key(item) not in carried_keys}
    now_keys = {_key(item): item for item in now_items}
    blocked = any(item.get("status") == "blocking" for item in (*now_items, *carried))
    recorded_db = predicate.get("advisory_db")
    return ReplayResult(
        recorded_verdict=predicate["decision"],
        verdict="fail" if blocked else "pass",
        recorded_db_digest=recorded_db.get("digest") if isinstance(recorded_db, dict) else None,
        db_digest=info.digest,
        environment_digest_matches=environment.digest == environment_info.get("digest"),
        added=tuple(now_keys[k] for k in sorted(set(now_keys) - set(recorded_keys))),
        removed=tuple(recorded_keys[k] for k in sorted(set(recorded_keys) - set(now_keys))),
        carried=tuple(carried),
    )
