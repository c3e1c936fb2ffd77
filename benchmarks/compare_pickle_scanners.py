"""The measurement behind the choice of pickle scanner (docs/models.md): picklescan, fickling and the
gate's own walk on the same files (the test suite's real and hostile assets), then their speed on a
raw pickle of numpy arrays.

A verdict is "flagged" when the scanner reports something dangerous / unsafe, "warned" for
suspicious, "clean" otherwise; "missed" marks a hostile file that came out clean or only warned.

    pip install picklescan fickling    # fickling is not a dependency of the gate
    python benchmarks/compare_pickle_scanners.py [--size 256]
"""

from __future__ import annotations

import argparse
import logging
import pickle
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def assets(folder: Path) -> dict[str, tuple[Path, bool]]:
    """name -> (path, hostile)."""
    from tests.models import helpers as h

    made: dict[str, tuple[Path, bool]] = {}
    made["torch state_dict (.pt zip)"] = (h.torch_state_dict(folder / "state.pt"), False)
    made["torch legacy (.bin)"] = (h.torch_legacy(folder / "legacy.bin"), False)
    made["sklearn joblib"] = (h.sklearn_joblib(folder / "clf.joblib"), False)
    made["sklearn joblib, zlib"] = (h.sklearn_joblib(folder / "clfz.joblib", compress=3), False)
    made["safetensors"] = (h.safetensors_file(folder / "m.safetensors"), False)
    for name, data in {
        "os.system, protocol 0": h.os_system_protocol0("id"),
        "os.system, protocol 4": h.os_system_protocol4("id"),
        "subprocess via memo": h.stack_global_via_memo("subprocess", "check_output", "id"),
        "builtins.__import__": b"\x80\x02cbuiltins\n__import__\n\x8c\x02os\x85R.",
        "benign pickle + os.system": pickle.dumps({"w": 1}, protocol=2) + h.os_system_protocol0("id"),
        "builtins.open (creates a file)": h.file_creating_pickle(folder / "never"),
    }.items():
        path = folder / (name.replace(" ", "_").replace(",", "").replace("/", "") + ".pkl")
        path.write_bytes(data)
        made[name] = (path, True)
    made["joblib, os.system after an array"] = (h.joblib_with_payload_after_array(folder / "after.joblib", "id"),
                                                True)
    made["npy object array, os.system"] = (h.numpy_object_array(folder / "obj.npy", "id"), True)
    made["torch zip, posix.system in data.pkl"] = (
        h.write_zip(folder / "evil.pt", {"evil/data.pkl": h.os_system_protocol0("id")}), True)
    return made


def gate_verdict(path: Path) -> str:
    from gate.models.scan import scan_file

    verdict = scan_file(path, shown=path.name, real=str(path)).verdict
    return {"dangerous": "flagged", "suspicious": "warned"}.get(verdict, "clean")


def picklescan_verdict(path: Path) -> str:
    from picklescan.scanner import scan_file_path

    result = scan_file_path(str(path))
    if result.issues_count or result.infected_files:
        return "flagged"
    if result.scan_err:
        return "error"
    return "warned" if result.suspicious_count else "clean"


def fickling_verdict(path: Path) -> str:
    import zipfile

    from fickling.analysis import Severity
    from fickling.loader import scan_file, scan_zip_archive

    if zipfile.is_zipfile(path):
        results = list(scan_zip_archive(str(path), graceful=True).values())
    else:
        results = [scan_file(str(path), graceful=True)]
    worst = max((r.severity for r in results), default=Severity.LIKELY_SAFE)
    if worst >= Severity.LIKELY_UNSAFE:
        return "flagged"
    return "warned" if worst > Severity.LIKELY_SAFE else "clean"


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256, help="MB of the raw pickle timed")
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)  # picklescan logs every finding
    scanners: dict[str, Callable[[Path], str]] = {"gate": gate_verdict}
    optional: dict[str, Callable[[Path], str]] = {"picklescan": picklescan_verdict, "fickling": fickling_verdict}
    for name, function in optional.items():
        try:
            function(Path(__file__))
            scanners[name] = function
        except ImportError:
            print(f"({name} is not installed: skipped)")
        except Exception:  # any other outcome means it is installed and ran
            scanners[name] = function
    folder = Path(tempfile.mkdtemp(prefix="gate-scanners-"))
    try:
        made = assets(folder)
        print(f"{'file':<46}" + "".join(f"{name:>12}" for name in scanners))
        wrong = dict.fromkeys(scanners, 0)
        for label, (path, hostile) in made.items():
            row = []
            for name, function in scanners.items():
                try:
                    verdict = function(path)
                except Exception as error:  # a crash is a result too
                    verdict = f"crash:{type(error).__name__}"[:11]
                bad = (hostile and verdict != "flagged") or (not hostile and verdict == "flagged")
                wrong[name] += bad
                row.append(f"{verdict + ('!' if bad else ''):>12}")
            print(f"{label + (' [hostile]' if hostile else ''):<46}" + "".join(row))
        print(f"{'wrong (missed hostile, or benign flagged)':<46}" + "".join(f"{wrong[n]:>12}" for n in scanners))
        import numpy as np

        big = folder / "big.pkl"
        array = np.random.default_rng(0).random(args.size * (1 << 20) // 8)
        with open(big, "wb") as handle:
            pickle.dump({"a": array, "b": array[:10]}, handle, protocol=4)
        megabytes = big.stat().st_size / 1e6
        for name, function in scanners.items():
            seconds = timed(partial(function, big))
            print(f"{name:<12} {megabytes:.0f} MB raw pickle: {seconds:6.2f} s  {megabytes / seconds:7.0f} MB/s")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
