"""Where results point: the package's own line, the single lockfile, or the policy file."""

from __future__ import annotations

from typing import Any

from gate.report.locations import Place, item_place


def _document(kind: str, source: str) -> dict[str, Any]:
    return {"environment": {"kind": kind, "source": source}, "policy": {"path": "/repo/policies/prod.yml"}}


def test_a_package_location_keeps_its_line() -> None:
    item = {"rule": "packages.deny", "location": "/repo/uv.lock:12"}
    assert item_place(_document("uv.lock", "/repo/uv.lock"), item, root="/repo") == Place(path="uv.lock", line=12)


def test_an_environment_wide_rule_points_at_the_single_lockfile() -> None:
    item = {"rule": "drift", "location": None}
    assert item_place(_document("uv.lock", "/repo/uv.lock"), item, root="/repo") == Place(path="uv.lock", line=None)


def test_model_files_alone_have_no_environment_file_so_the_policy_is_the_place() -> None:
    item = {"rule": "drift", "location": None}
    document = _document("none", "(no environment: model files only)")
    assert item_place(document, item, root="/repo") == Place(path="policies/prod.yml", line=None)


def test_a_model_violation_points_at_the_model_file() -> None:
    item = {"rule": "models.block_unsafe", "location": "/repo/models/evil.bin"}
    document = _document("none", "(no environment: model files only)")
    assert item_place(document, item, root="/repo") == Place(path="models/evil.bin", line=None)
