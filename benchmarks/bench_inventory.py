"""Time the inventory on real data: `gate inventory add` of 1,000 signed records of ~200 packages,
`gate monitor` over them against the full shared snapshot, and `gate affected` over 10,000 environments,
on SQLite and on PostgreSQL (a throwaway server, as the tests start one: tests/postgres.py).

The environments are real: every lockfile of ../shared/corpus read by the gate's own readers (for
Python 3.11 on linux_x86_64), plus the example virtualenvs in tests/assets/venvs. Record i is a
different selection of them: corpus files taken in a stride that depends on i, merged (first
occurrence of a name wins) until 200 packages, so no two records hold the same set and no name is
invented. Each is judged against the snapshot by a production-like policy (vulnerabilities, denied
packages, sources), signed, and given its own CI context (repository, commit).

    python benchmarks/bench_inventory.py [--records 1000] [--environments 10000] [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SNAPSHOT = SHARED / "advisories" / "pypa-advisory-db-2026-07-23.yaml.zip"
CORPUS = SHARED / "corpus"
VENVS = REPO / "tests" / "assets" / "venvs"
PACKAGES_PER_RECORD = 200
NOW = dt.datetime(2026, 7, 24, 12, tzinfo=dt.UTC)
POLICY = """stage: production
vulnerabilities:
  block_at: medium
  unknown_severity: warn
  waivers:
    - {id: CVE-2024-35195, package: requests, reason: no Session reuse after verify=False,
       owner: platform-security@example.com, expires: 2026-08-01}
packages:
  deny:
    - {name: torch, versions: "<2.6", reason: "torch.load weights_only bypass, CVE-2025-32434"}
sources:
  forbid: [vcs, url, path, editable]
"""


def gate(*args: str, env: dict[str, str] | None = None) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    done = subprocess.run([str(REPO / ".venv" / "bin" / "gate"), *args], capture_output=True, text=True, env=env)
    return time.perf_counter() - start, done


def real_environments() -> list[tuple[str, list[Any]]]:
    """(label, packages) of every corpus lockfile and example venv the gate reads for 3.11/linux."""
    from gate.errors import GateError
    from gate.model import Target
    from gate.sources import read_lockfiles, reader_for_environment
    from gate.sources.selection import select

    target = Target(python="3.11", platform="linux_x86_64")
    found = []
    for path in sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.parent != CORPUS):
        try:
            environment = select(read_lockfiles([path], target=target), target=target).environment
        except GateError:
            continue
        packages = [p for p in environment.packages if p.version is not None]
        if packages:
            found.append((str(path.relative_to(CORPUS)), packages))
    for venv in sorted(VENVS.iterdir()):
        if (venv / "pyvenv.cfg").is_file():
            environment = reader_for_environment(venv).read(venv, target=target)
            found.append((f"venv:{venv.name}", list(environment.packages)))
    return found


def mix(sources: list[tuple[str, list[Any]]], index: int) -> tuple[str, list[Any]]:
    """Record ``index``'s environment: corpus files in a stride that depends on the index, merged to 200."""
    count = len(sources)
    stride = 1 + (index // count) % (count - 1)
    chosen: dict[tuple[str, str], Any] = {}
    labels = []
    position = index % count
    visited: set[int] = set()
    while len(chosen) < PACKAGES_PER_RECORD and len(visited) < count:
        while position in visited:  # the stride cycled: move on to the next unvisited file
            position = (position + 1) % count
        visited.add(position)
        label, packages = sources[position]
        labels.append(label)
        for package in packages:
            chosen.setdefault((package.ecosystem, package.name), package)
        position = (position + stride) % count
    keys = sorted(chosen)[:PACKAGES_PER_RECORD]
    return " + ".join(labels[:3]) + (" + ..." if len(labels) > 3 else ""), [chosen[k] for k in keys]


def build_records(work: Path, db: Path, count: int) -> tuple[list[Any], Path, Any]:
    sys.path.insert(0, str(REPO))
    from cryptography.hazmat.primitives import serialization

    from gate.advisories import AdvisoryDatabase
    from gate.model import Environment, Target
    from gate.policy import load_policy
    from gate.policy.evaluate import evaluate
    from gate.record import make_record
    from tests.record.helpers import new_key

    policy_path = work / "policy.yml"
    policy_path.write_text(POLICY)
    policy = load_policy(policy_path)
    key = new_key()
    pem = key.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    pub = work / "gate-signing-key.pub.pem"
    pub.write_bytes(key.key.public_key().public_bytes(serialization.Encoding.PEM,
                                                      serialization.PublicFormat.SubjectPublicKeyInfo))
    sources = real_environments()
    print(f"real environments read: {len(sources)} (corpus lockfiles and example venvs)")
    folder = work / "records"
    folder.mkdir()
    decisions = []
    sizes = []
    with AdvisoryDatabase.open(db) as database:
        info = database.info
        for index in range(count):
            label, packages = mix(sources, index)
            environment = Environment.create(source=f"models/m{index:04}/requirements.lock", kind="lockfile",
                                             target=Target(python="3.11", platform="linux_x86_64"), packages=packages,
                                             notes=(f"Benchmark environment built from {label}.",))
            sizes.append(len(environment.packages))
            decision = evaluate(environment=environment, policy=policy, matches=database.matches(packages),
                                database=info, now=NOW)
            decisions.append(decision)
            environ = {"GATE_SIGNING_KEY": pem, "GITLAB_CI": "true", "CI_PROJECT_PATH": f"ml/team-{index % 40:02}",
                       "CI_COMMIT_SHA": f"{index:040x}", "CI_COMMIT_REF_NAME": "main",
                       "CI_PIPELINE_URL": f"https://gitlab.example/ml/-/pipelines/{index}"}
            record = make_record(decision, subjects=[], environ=environ, started_at=NOW, finished_at=NOW,
                                 require_signature=True)
            (folder / f"r{index:05}.dsse.json").write_text(record.text)
    findings = sum(len(d.findings) for d in decisions)
    print(f"records: {count}, packages per record: median {statistics.median(sizes):.0f} (min {min(sizes)}, "
          f"max {max(sizes)}), findings: {findings} in all")
    return decisions, pub, key


def many_environments(location: str, decisions: list[Any], key: Any, total: int) -> None:
    """``total`` environments in the inventory: each decision signed again under other repositories."""
    import base64

    from gate.inventory import Inventory, RecordEntry
    from gate.record.dsse import envelope
    from gate.record.statement import build_statement, statement_payload

    statements = [build_statement(decision, subjects=[], ci={}, started_at=NOW, finished_at=NOW)
                  for decision in decisions]
    with Inventory.open(location) as inventory:
        present = inventory.record_count()
        for index in range(present, total):
            base = statements[index % len(statements)]
            ci = {"system": "gitlab", "repository": f"ml/org-{index // len(decisions):02}/team-{index % 40:02}",
                  "commit": f"{index:040x}", "ref": "main"}
            statement = {**base, "predicate": {**base["predicate"], "ci": ci}}
            payload = statement_payload(statement)
            document = envelope(payload, key)
            assert base64.b64decode(document["payload"]) == payload
            inventory.add(RecordEntry(payload=payload, signatures=tuple(document["signatures"]), keyid=key.keyid,
                                      statement=statement, source=f"bench-{index}"), now=NOW)


def median_run(args: list[str], runs: int) -> tuple[float, subprocess.CompletedProcess[str]]:
    times = []
    done = None
    for _ in range(runs):
        seconds, done = gate(*args)
        times.append(seconds)
    assert done is not None
    return statistics.median(times), done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--environments", type=int, default=10_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--runs", type=int, default=5, help="runs of each gate affected query")
    args = parser.parse_args()
    if not SNAPSHOT.is_file() or not CORPUS.is_dir():
        sys.exit("the benchmark needs ../shared (advisory snapshot and corpus)")
    sys.path.insert(0, str(REPO))
    work = Path(tempfile.mkdtemp(prefix="gate-bench-inventory-"))
    db = work / "advisories.sqlite3"
    seconds, done = gate("db", "import", str(SNAPSHOT), "--db", str(db), "--now", "2026-07-24T00:00:00Z")
    assert done.returncode == 0, done.stderr
    print(f"gate db import of the snapshot: {seconds:.1f} s")
    start = time.perf_counter()
    decisions, pub, key = build_records(work, db, args.records)
    print(f"built and signed {args.records} records in {time.perf_counter() - start:.1f} s")
    records = sorted(str(p) for p in (work / "records").iterdir())
    clusters = []
    try:
        for backend in args.backends.split(","):
            if backend == "sqlite":
                location = str(work / "inventory.sqlite3")
            else:
                from tests.postgres import start_cluster

                cluster, reason = start_cluster(durable=True)
                if cluster is None:
                    print(f"postgresql: skipped ({reason})")
                    continue
                clusters.append(cluster)
                location = cluster.new_database()
            print(f"--- {backend}")
            seconds, done = gate("inventory", "add", *records, "--key", str(pub), "--inventory", location)
            assert done.returncode == 0, done.stderr
            add_seconds = seconds
            print(f"gate inventory add, {args.records} records:           {seconds:6.2f} s  "
                  f"({done.stdout.splitlines()[-1].split(';')[0]})")
            seconds, done = gate("inventory", "add", *records, "--key", str(pub), "--inventory", location)
            print(f"gate inventory add again (all already present):  {seconds:6.2f} s")
            out = work / f"monitor-{backend}.json"
            seconds, done = gate("monitor", "--inventory", location, "--db", str(db), "--format", "json",
                                 "--out", str(out), "--now", "2026-07-25T00:00:00Z")
            assert done.returncode in (0, 1), done.stderr
            summary = json.loads(out.read_text())["summary"]
            print(f"gate monitor, {summary['environments']} environments, full snapshot: {seconds:6.2f} s  "
                  f"(exit {done.returncode}; {summary['changed']} changed)")
            print(f"add + monitor:                                   {add_seconds + seconds:6.2f} s")
            start = time.perf_counter()
            many_environments(location, decisions, key, args.environments)
            print(f"filled to {args.environments} environments in {time.perf_counter() - start:.1f} s")
            queries = [["affected", "PYSEC-2023-74"], ["affected", "CVE-2024-35195"], ["affected", "numpy<2"],
                       ["affected", "requests"]]
            for query in queries:
                seconds, done = median_run([*query, "--inventory", location, "--db", str(db), "--json"], args.runs)
                answer = json.loads(done.stdout)
                print(f"gate {' '.join(query):<28} over {args.environments} envs: median {seconds * 1000:6.0f} ms "
                      f"(process start included; {answer['environments']} environments, "
                      f"{len(answer['matches'])} matches)")
            seconds, _ = median_run(["--version"], args.runs)
            print(f"(gate --version, the process start alone: {seconds * 1000:.0f} ms)")
    finally:
        for cluster in clusters:
            cluster.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
