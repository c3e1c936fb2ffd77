"""Real signed records for the inventory tests: a lockfile judged against a compiled advisory
database by a real policy, in a CI context, signed with a throwaway key."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from gate.model import Decision
from gate.record import make_record
from gate.record.keys import SigningKey
from tests.conftest import ASSETS
from tests.record.helpers import new_key

NOW = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)
OLD_REQUIREMENTS = "requests==2.19.1\nurllib3==1.24.1\njinja2==2.10\n"
NEW_REQUIREMENTS = "requests==2.32.3\nurllib3==2.2.2\njinja2==3.1.4\n"


def policy_file(folder: Path, *, stage: str = "production", extra: str = "") -> Path:
    """The example policy (vulnerabilities, sources...) without licences (a lockfile has none), for ``stage``."""
    path = folder / f"policy-{stage}.yml"
    path.write_text(f"extends: {ASSETS / 'example' / 'policy.yml'}\nstage: {stage}\nlicenses: null\n"
                    "registry: null\n" + extra)
    return path


def decide(lockfile: Path, policy_path: Path, db: Path, *, now: dt.datetime = NOW) -> Decision:
    from gate.advisories import AdvisoryDatabase
    from gate.policy import load_policy
    from gate.policy.evaluate import evaluate
    from gate.sources import read_lockfiles

    policy = load_policy(policy_path)
    environment = read_lockfiles([lockfile], target=policy.target)
    with AdvisoryDatabase.open(db) as database:
        matches = database.matches(environment.packages)
        info = database.info
    return evaluate(environment=environment, policy=policy, matches=matches, database=info, now=now)


def ci(repository: str, commit: str = "0123456789abcdef") -> dict[str, str]:
    return {"GITLAB_CI": "true", "CI_PROJECT_PATH": repository, "CI_COMMIT_SHA": commit,
            "CI_COMMIT_REF_NAME": "main", "CI_PIPELINE_URL": f"https://gitlab.example/{repository}/-/pipelines/1"}


def write_record(path: Path, decision: Decision, key: SigningKey | None, *, environ: dict[str, str],
                 now: dt.datetime = NOW) -> Path:
    env = dict(environ)
    if key is not None:
        env["GATE_SIGNING_KEY"] = key.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                        serialization.NoEncryption()).decode()
    record = make_record(decision, subjects=[], environ=env, started_at=now, finished_at=now, require_signature=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(record.text)
    return path


def public_key_file(folder: Path, key: SigningKey) -> Path:
    path = folder / "gate-signing-key.pub.pem"
    folder.mkdir(parents=True, exist_ok=True)
    path.write_bytes(key.key.public_key().public_bytes(serialization.Encoding.PEM,
                                                       serialization.PublicFormat.SubjectPublicKeyInfo))
    return path


def lockfile(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def tamper(path: Path) -> None:
    """Edit the decision inside the signed payload (the signature no longer covers it)."""
    import base64

    document = json.loads(path.read_text())
    payload = base64.b64decode(document["payload"]).replace(b'"decision":"fail"', b'"decision":"pass"')
    document["payload"] = base64.b64encode(payload).decode()
    path.write_text(json.dumps(document))


__all__ = ["NEW_REQUIREMENTS", "NOW", "OLD_REQUIREMENTS", "ci", "decide", "lockfile", "new_key", "policy_file",
           "public_key_file", "tamper", "write_record"]
