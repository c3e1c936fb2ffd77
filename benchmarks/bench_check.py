"""Time the spine on real data: `gate db import` of the shared snapshot, and `gate check` on
a real environment of 200+ distributions (make one with benchmarks/make_env.py).

Prints medians; run it on an idle machine:

    python benchmarks/bench_check.py --env /work/benchenv [--runs 15] [--import-runs 3] \
        [--cyclonedx-py /path/to/cyclonedx-py]

With ``--cyclonedx-py`` it also times ``cyclonedx-py environment --no-validate ENV`` (SBOM only)
in the same loop, so the comparison sees the same machine load.

"What --out adds, cold" splits the outputs of ``gate check --out`` the way a real run pays for
them: each figure is taken in a fresh interpreter, imports included, in the order the CLI runs
them (the in-process figures above are warm and leave the imports out).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path

from timing import interleaved_medians, median_seconds, show

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "advisories"
SNAPSHOTS = {
    "yaml zip": SHARED / "pypa-advisory-db-2026-07-23.yaml.zip",
    "json zip": SHARED / "osv-pypi-2026-07-23.json.zip",
}


COLD_PARTS = ("result.json + report.md", "sbom.cdx.json", "results.sarif + GitLab report", "record.dsse.json (signed)")


def cold_outputs(env: Path, policy_path: str, db: Path, key: Path) -> None:
    """One fresh-interpreter run: judge ``env``, then time each output as ``gate check --out`` makes
    it, imports included; print the seconds as a JSON list in :data:`COLD_PARTS` order."""
    import time

    sys.path.insert(0, str(REPO))
    from gate.advisories import AdvisoryDatabase
    from gate.policy import load_policy, resolve_policy_argument
    from gate.policy.evaluate import evaluate
    from gate.sources import reader_for_environment

    now = dt.datetime(2026, 7, 24, tzinfo=dt.UTC)
    environment = reader_for_environment(env).read(env, target=None)
    policy = load_policy(resolve_policy_argument(policy_path))
    with AdvisoryDatabase.open(db) as database:
        info = database.info
        matches = database.matches(environment.packages)
    decision = evaluate(environment=environment, policy=policy, matches=matches, database=info, now=now)
    times = []
    start = time.perf_counter()
    from gate.report import render_markdown, result_document

    document = result_document(decision)
    outputs = {"report.md": render_markdown(decision)}
    times.append(time.perf_counter() - start)
    start = time.perf_counter()
    from gate.sbom import render_sbom

    outputs["sbom.cdx.json"] = render_sbom(decision)
    times.append(time.perf_counter() - start)
    start = time.perf_counter()
    from gate.report.gitlab import render_gitlab
    from gate.report.sarif import render_sarif

    render_sarif(document, root=str(REPO), base=str(REPO))
    render_gitlab(document, root=str(REPO), base=str(REPO))
    times.append(time.perf_counter() - start)
    start = time.perf_counter()
    from gate.record import ENVIRONMENT_JSON, Subject, environment_manifest, make_record

    subjects = [Subject(name=ENVIRONMENT_JSON, data=environment_manifest(environment)),
                *(Subject(name=name, data=text.encode("utf-8")) for name, text in outputs.items())]
    make_record(decision, subjects=subjects, environ={"GATE_SIGNING_KEY": str(key)}, started_at=now,
                finished_at=now, require_signature=True)
    times.append(time.perf_counter() - start)
    print(json.dumps(times))


def main() -> None:
    if sys.argv[1:2] == ["--cold-outputs"]:
        cold_outputs(Path(sys.argv[2]), sys.argv[3], Path(sys.argv[4]), Path(sys.argv[5]))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", type=Path, required=True, help="a virtualenv of 200+ distributions")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--import-runs", type=int, default=3)
    parser.add_argument("--policy", default=str(REPO / "tests" / "assets" / "policies" / "vulnerabilities.yml"),
                        help="default: production's vulnerability rules alone (the spine); the registry rules "
                        "need an index: benchmarks/bench_registry.py times them against a loopback one")
    parser.add_argument("--cyclonedx-py", type=Path, default=None, metavar="PATH",
                        help="a cyclonedx-py executable (pip install cyclonedx-bom) to time beside the gate")
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
             median_seconds(partial(import_database, snapshot, target, now=now), args.import_runs),
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

    from gate.record import Subject, make_record
    from gate.record.keys import generate_keypair
    from gate.sbom import render_sbom

    private_key, _, _ = generate_keypair(work / "keys")
    signing = {"GATE_SIGNING_KEY": str(private_key)}

    show("render sbom.cdx.json (in process)", median_seconds(lambda: render_sbom(decision), args.runs), args.runs)
    show("build + sign record.dsse.json (in process)", median_seconds(
        lambda: make_record(decision, subjects=[Subject(name="report.md", data=b"")], environ=signing,
                            started_at=now, finished_at=now, require_signature=False), args.runs), args.runs)

    cold: list[list[float]] = []
    for _ in range(args.runs):
        completed = subprocess.run([sys.executable, __file__, "--cold-outputs", str(args.env), args.policy, str(db),
                                    str(private_key)], capture_output=True, check=True, text=True)
        cold.append(json.loads(completed.stdout))
    for index, part in enumerate(COLD_PARTS):
        values = [run[index] for run in cold]
        show(f"what --out adds, cold: {part}", (statistics.median(values), min(values), max(values)), args.runs)
    totals = [run[1] + run[3] for run in cold]
    show("what --out adds, cold: SBOM + record (budget 200 ms)",
         (statistics.median(totals), min(totals), max(totals)), args.runs)

    command = [sys.executable, "-m", "gate", "check", "--env", str(args.env), "--policy", args.policy,
               "--db", str(db), "--now", "2026-07-24T00:00:00Z"]

    def whole_check(extra: list[str]) -> None:
        completed = subprocess.run(command + extra, capture_output=True, cwd=REPO, check=False,
                                   env={**os.environ, **signing})
        if completed.returncode not in (0, 1):
            sys.exit(f"gate check failed ({completed.returncode}): {completed.stderr.decode()}")

    timed: dict[str, Callable[[], object]] = {
        "gate check, no --out (python -m gate)": lambda: whole_check([]),
        "gate check --out: result, report, SBOM, signed record": lambda: whole_check(["--out", str(work / "out")]),
    }
    if args.cyclonedx_py is not None:
        sbom_only = [str(args.cyclonedx_py), "environment", "--no-validate", str(args.env),
                     "-o", str(work / "cdx.json")]
        timed["for comparison: cyclonedx-py environment --no-validate"] = lambda: subprocess.run(
            sbom_only, capture_output=True, check=True)
    for label, seconds in interleaved_medians(timed, args.runs).items():
        show(label, seconds, args.runs)
    baseline = [sys.executable, "-c", "pass"]
    show("for scale: bare interpreter start", median_seconds(
        lambda: subprocess.run(baseline, check=True), args.runs), args.runs)
    print(f"findings: {len(decision.findings)}, violations: {len(decision.violations)}, "
          f"verdict: {decision.verdict.value}")


if __name__ == "__main__":
    main()
