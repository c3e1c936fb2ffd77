"""Judge an environment: run every rule, then decide. Pure: no I/O, the clock is passed in."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from gate.model import (
    DatabaseInfo,
    Decision,
    Environment,
    Finding,
    Match,
    ModelFile,
    ModifiedFile,
    PolicyInfo,
    RegistryFacts,
    Status,
    Verdict,
    Violation,
)
from gate.policy.model import Policy
from gate.policy.rules.advisory_db import AdvisoryDbRule
from gate.policy.rules.base import Context, Rule
from gate.policy.rules.consistency import ConsistencyRule
from gate.policy.rules.drift import DriftRule
from gate.policy.rules.licenses import LicenseRule
from gate.policy.rules.models import ModelRule
from gate.policy.rules.packages import DenyRule
from gate.policy.rules.registry import RegistryRule
from gate.policy.rules.sources import SourceRule
from gate.policy.rules.vulnerabilities import VulnerabilityRule

# The registry of rules, in report order. A new policy section adds one line here.
RULES: tuple[Rule, ...] = (AdvisoryDbRule(), VulnerabilityRule(), DenyRule(), LicenseRule(), SourceRule(),
                           RegistryRule(), ConsistencyRule(), DriftRule(), ModelRule())


def evaluate(*, environment: Environment, policy: Policy, matches: Sequence[Match],
             database: DatabaseInfo | None, now: dt.datetime, registry: RegistryFacts | None = None,
             baseline: Environment | None = None, modified_files: tuple[ModifiedFile, ...] | None = None,
             models: tuple[ModelFile, ...] = ()) -> Decision:
    context = Context(environment=environment, policy=policy, matches=tuple(matches), database=database, now=now,
                      registry=registry, baseline=baseline, modified_files=modified_files, models=models)
    findings: list[Finding] = []
    violations: list[Violation] = []
    notes: list[str] = list(environment.notes)
    for rule in RULES:
        outcome = rule.check(context)
        findings.extend(outcome.findings)
        violations.extend(outcome.violations)
        notes.extend(outcome.notes)
    blocked = any(f.status is Status.BLOCKING for f in findings) or any(
        v.status is Status.BLOCKING for v in violations)
    return Decision(
        verdict=Verdict.FAIL if blocked else Verdict.PASS,
        environment=environment,
        policy=PolicyInfo(path=policy.path, digest=policy.digest, stage=policy.stage, effective=policy.effective),
        database=database,
        findings=tuple(findings),
        violations=tuple(violations),
        checked_at=now,
        notes=tuple(notes),
        models=models,
    )
