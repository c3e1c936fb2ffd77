"""Time the spine on real data: `gate db import` of the shared snapshot, and `gate check` on
a real environment of 200+ distributions (make one with benchmarks/make_env.py).

Prints medians; run it on an idle machine:

    python benchmarks/bench_check.py --env /work/benchenv [--runs 15] [--import-runs 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from timing import median_seconds, show

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "advisories"
SNAPSHOTS = {
    "yaml zip": SHARED / "pypa-advisory-db-2026-07-23.yaml.zip",
    "json zip": SHARED / "osv-pypi-2026-07-23.json.zip",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", type=Path, required=True, help="a virtualenv of 200+ distributions")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--import-runs", type=int, default=3)
    parser.add_argument("--policy", default=str(REPO / "tests" / "assets" / "policies" / "vulnerabilities.yml"),
                        help="default: production's vulnerability rules alone (the spine); the registry rules "
                        "need an index: benchmarks/bench_registry.py times them against a loopback one")
    args = parser.parse_args()

    sys.path.insert(0, str(REPO))
    from gate.advisories import AdvisoryDatabase, import_database
    from gate.policy import load_policy, resolve_policy_argument
    from gate.policy.evaluate import evaluate
    from gate.report import render_markdown, result_document
    from gate.report.gitlab import render_gitlab
    from gate.report.sarif import render_sarif
    from gate.sources import reader_for_environment

    now = dt.datetime(2026, 7, 24, tzinfo=dt.UTC)
    work = Path(tempfile.mkdtemp(prefix="gate-bench-"))
    db = work / "advisories.sqlite3"
    for label, snapshot in SNAPSHOTS.items():
        if not snapshot.is_file():
            sys.exit(f"{snapshot}: missing; the benchmark needs ../shared")
        target = work / f"{label.replace(' ', '-')}.sqlite3"
        show(f"gate db import ({label}, {snapshot.stat().st_size // 1_000_000} MB)",
             median_seconds(lambda s=snapshot, t=target: import_database(s, t, now=now), args.import_runs),
             args.import_runs)
    os.replace(work / "yaml-zip.sqlite3", db)

    environment = reader_for_environment(args.env).read(args.env, target=None)
    print(f"environment: {args.env} ({len(environment.packages)} distributions)")
    policy = load_policy(resolve_policy_argument(args.policy))

    show("read environment (in process)",
         median_seconds(lambda: reader_for_environment(args.env).read(args.env, target=None), args.runs), args.runs)

    def lookup() -> None:
        with AdvisoryDatabase.open(db) as database:
            database.matches(environment.packages)

    show("open database + match every package (in process)", median_seconds(lookup, args.runs), args.runs)
    with AdvisoryDatabase.open(db) as database:
        info = database.info
        matches = database.matches(environment.packages)
    show("evaluate policy (in process)", median_seconds(
        lambda: evaluate(environment=environment, policy=policy, matches=matches, database=info, now=now),
        args.runs), args.runs)
    decision = evaluate(environment=environment, policy=policy, matches=matches, database=info, now=now)
    show("render result.json + report.md (in process)", median_seconds(
        lambda: (result_document(decision), render_markdown(decision)), args.runs), args.runs)
    document = result_document(decision)
    show("render results.sarif + GitLab report (in process)", median_seconds(
        lambda: (render_sarif(document, root=str(REPO), base=str(REPO)),
                 render_gitlab(document, root=str(REPO), base=str(REPO))), args.runs), args.runs)

    command = [sys.executable, "-m", "gate", "check", "--env", str(args.env), "--policy", args.policy,
               "--db", str(db), "--out", str(work / "out"), "--now", "2026-07-24T00:00:00Z"]

    def whole_check() -> None:
        completed = subprocess.run(command, capture_output=True, cwd=REPO, check=False)
        if completed.returncode not in (0, 1):
            sys.exit(f"gate check failed ({completed.returncode}): {completed.stderr.decode()}")

    show("gate check, whole process (python -m gate)", median_seconds(whole_check, args.runs), args.runs)
    baseline = [sys.executable, "-c", "pass"]
    show("for scale: bare interpreter start", median_seconds(
        lambda: subprocess.run(baseline, check=True), args.runs), args.runs)
    print(f"findings: {len(decision.findings)}, violations: {len(decision.violations)}, "
          f"verdict: {decision.verdict.value}")


if __name__ == "__main__":
    main()
