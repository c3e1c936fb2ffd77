"""Time every reader on the real lockfiles of ../shared/corpus.

Prints, per corpus file, the detected format, the package count and the median read time
(detection included, as `gate check --lockfile` does it):

    python benchmarks/bench_readers.py [--runs 10]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from gate.errors import GateError
    from gate.sources import reader_for_lockfile

    if not CORPUS.is_dir():
        sys.exit(f"{CORPUS}: missing; the benchmark needs ../shared")
    worst: dict[str, tuple[float, str, int]] = defaultdict(lambda: (0.0, "", 0))
    for path in sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.parent != CORPUS):
        times = []
        try:
            for _ in range(args.runs):
                start = time.perf_counter()
                reader = reader_for_lockfile(path)
                environment = reader.read(path, target=None)
                times.append(time.perf_counter() - start)
        except GateError as error:
            print(f"{'rejected':<18} {'':>5} {'':>9}  {path.relative_to(CORPUS)}: {error}")
            continue
        median = statistics.median(times)
        count = len(environment.packages)
        print(f"{reader.name:<18} {count:>5} {median * 1000:>7.1f}ms  {path.relative_to(CORPUS)}")
        if median > worst[reader.name][0]:
            worst[reader.name] = (median, path.name, count)
    print("\nslowest file per format (median of", args.runs, "runs):")
    for name, (median, file, count) in sorted(worst.items()):
        print(f"  {name:<18} {median * 1000:7.1f} ms  {count:>5} packages  {file}")


if __name__ == "__main__":
    main()
