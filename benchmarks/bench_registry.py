"""Time the registry edge on a real environment: a synthetic PEP 691 index generated from the
environment's own names and versions is served on loopback (never the real PyPI), the cache is
filled once (cold), then the facts are taken from the warm cache, and the whole `gate check`
runs with the registry rules on (with the shipped production policy, and licences and
sources on too).

Project pages are sized like PyPI's: every project lists 40 releases of 4 files, and every
20th project 1500 releases of 8 files (the botocore / numpy class of page, several MB of JSON).

    python benchmarks/bench_registry.py --env /work/benchenv [--runs 10] [--db advisories.sqlite3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from timing import median_seconds, show

REPO = Path(__file__).resolve().parents[1]
SNAPSHOT = REPO.parent / "shared" / "advisories" / "pypa-advisory-db-2026-07-23.yaml.zip"
NOW = "2026-07-24T00:00:00Z"


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def build_tree(root: Path, pins: list[tuple[str, str]]) -> int:
    """Write one PEP 691 page per project; returns the total bytes of JSON written."""
    total = 0
    for number, (name, version) in enumerate(pins):
        big = number % 20 == 0
        releases, per_release = (1500, 8) if big else (40, 4)
        stem = name.replace("-", "_")
        files = []
        for release in range(releases):
            shown = version if release == 0 else f"{release // 100}.{release % 100}.{number}"
            for index in range(per_release):
                filename = (f"{stem}-{shown}.tar.gz" if index == 0
                            else f"{stem}-{shown}-cp3{index}-cp3{index}-manylinux_2_17_x86_64.whl")
                files.append({"filename": filename, "url": f"../../files/{filename}",
                              "hashes": {"sha256": digest(filename)}, "requires-python": ">=3.9",
                              "size": 123456, "upload-time": "2024-03-01T10:00:00.000000Z", "yanked": False,
                              "core-metadata": {"sha256": digest(filename + ".metadata")} if index else False})
        page = json.dumps({"meta": {"api-version": "1.1"}, "name": name, "files": files})
        folder = root / "simple" / name
        folder.mkdir(parents=True)
        (folder / "index.json").write_text(page, encoding="utf-8")
        total += len(page)
    (root / "files").mkdir()
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", type=Path, required=True, help="a virtualenv of 200+ distributions")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--db", type=Path, help="a compiled advisory database (default: import ../shared's snapshot)")
    args = parser.parse_args()

    sys.path.insert(0, str(REPO))
    from gate.policy.model import RegistryRules
    from gate.registry import fetch_registry_facts, wanted_releases
    from gate.sources import reader_for_environment
    from tests.registry.helpers import IndexServer

    work = Path(tempfile.mkdtemp(prefix="gate-bench-registry-"))
    environment = reader_for_environment(args.env).read(args.env, target=None)
    pins = list(wanted_releases(environment))
    size = build_tree(work / "index", pins)
    print(f"environment: {args.env} ({len(environment.packages)} distributions, {len(pins)} index releases); "
          f"synthetic index: {size / 1e6:.1f} MB of project pages")

    with IndexServer(work / "index") as server:
        rules = RegistryRules(url=server.index_url, min_release_age_days=7, forbid_yanked=True, verify_hashes=True)
        cache = work / "cache" / "registry"
        start = time.perf_counter()
        facts = fetch_registry_facts(environment, rules, cache_dir=cache)
        print(f"cold: {len(server.requests)} requests, {time.perf_counter() - start:.2f} s; "
              f"cache {sum(p.stat().st_size for p in cache.rglob('*.json')) / 1e6:.2f} MB; "
              f"{len(facts.releases)} releases, {len(facts.missing)} missing")
        show("registry facts from the warm cache (in process)", median_seconds(
            lambda: fetch_registry_facts(environment, rules, cache_dir=cache), args.runs), args.runs)
        assert len(server.requests) == len(pins), "the warm runs asked the index"

        db = args.db
        if db is None:
            from gate.advisories import import_database

            db = work / "advisories.sqlite3"
            import_database(SNAPSHOT, db, now=dt.datetime(2026, 7, 24, tzinfo=dt.UTC))
        policy = work / "policy.yml"
        policy.write_text(
            f"extends: {REPO / 'policies' / 'production.yml'}\n"
            f"registry:\n  url: {server.index_url}\n  min_release_age_days: 7\n  forbid_yanked: true\n"
            "  verify_hashes: true\nrecord: null\n"
            "licenses:\n  allow: [MIT, BSD-3-Clause, Apache-2.0]\n  unknown: warn\n"
            f"sources:\n  indexes: [{server.index_url}]\n  forbid: [vcs, url, path, editable]\n  require_pins: true\n",
            encoding="utf-8")
        command = [sys.executable, "-m", "gate", "check", "--env", str(args.env), "--policy", str(policy),
                   "--db", str(db), "--out", str(work / "out"), "--now", NOW]
        environ = {**os.environ, "GATE_CACHE_DIR": str(work / "cache")}

        def whole_check() -> None:
            completed = subprocess.run(command, capture_output=True, cwd=REPO, check=False, env=environ)
            if completed.returncode not in (0, 1):
                sys.exit(f"gate check failed ({completed.returncode}): {completed.stderr.decode()}")

        whole_check()
        notes = json.loads((work / "out" / "result.json").read_text(encoding="utf-8"))["notes"]
        if not any(note.startswith("registry:") for note in notes):
            sys.exit("gate check did not consult the registry: is fetch_registry_facts wired into the CLI?")
        show("gate check, all rules, registry from the warm cache", median_seconds(whole_check, args.runs), args.runs)
        # The same with a baseline, and drift by package only: modified_files hashes every
        # installed file (tens of thousands), which dominates the run above.
        baseline = work / "baseline.json"
        baseline.write_bytes((work / "out" / "result.json").read_bytes())
        by_package = work / "by-package.yml"
        by_package.write_text(f"extends: {policy}\ndrift:\n  forbid: [added, removed, changed]\n", encoding="utf-8")
        command[command.index(str(policy))] = str(by_package)
        command.extend(["--baseline", str(baseline)])
        show("gate check, all rules but modified_files, with --baseline", median_seconds(whole_check, args.runs),
             args.runs)
        print(f"index requests during the checks: {len(server.requests) - len(pins)}")


if __name__ == "__main__":
    main()
