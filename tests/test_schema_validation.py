"""jsonschema without its format libraries, for every runtime use of it."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from gate.schema_validation import FORMAT_LIBRARIES
from tests.conftest import ASSETS, Run


def test_loading_a_policy_imports_none_of_jsonschemas_format_libraries() -> None:
    """rfc3987-syntax (from jsonschema[format-nongpl]) took 1.1 s to import in a test venv: the
    policy schema checks no formats, so none of those libraries may ride along; and a library the
    process wants later still imports."""
    installed = [name for name in FORMAT_LIBRARIES if importlib.util.find_spec(name) is not None]
    code = ("import sys; from gate.policy import load_policy, resolve_policy_argument; "
            "load_policy(resolve_policy_argument('production')); "
            f"print([n for n in {FORMAT_LIBRARIES!r} if n in sys.modules]); "
            f"[__import__(n) for n in {installed!r}]; print('later imports work')")
    shown = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert shown.splitlines() == ["[]", "later imports work"]


def test_reading_a_stored_result_imports_none_of_them_either(gate: Callable[..., Run], example_db: Path,
                                                              tmp_path: Path) -> None:
    """``gate ci github`` and ``gate comment`` read result.json in every CI job: the same cost there."""
    out = tmp_path / "out"
    run = gate("check", "--env", ASSETS / "venvs" / "old-ml", "--policy", ASSETS / "example" / "policy.yml",
               "--db", example_db, "--now", "2026-07-24T00:00:00Z", "--out", out)
    assert run.code == 1, run.err
    code = ("import sys; from pathlib import Path; from gate.report.stored import read_result; "
            f"print(read_result(Path({str(out / 'result.json')!r}))['decision']); "
            f"print([n for n in {FORMAT_LIBRARIES!r} if n in sys.modules])")
    shown = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert shown.splitlines() == ["fail", "[]"]
