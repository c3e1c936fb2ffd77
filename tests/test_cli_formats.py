"""``gate check --format`` (what goes to stdout) and the files ``--out`` writes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import REPO, Run
from tests.report.helpers import EXAMPLE_NOW, EXAMPLE_POLICY, OLD_ML, in_repository

FILES = {"json": "result.json", "markdown": "report.md", "sarif": "results.sarif",
         "gitlab": "gl-dependency-scanning-report.json"}


def check(gate: Callable[..., Run], db: Path, *args: str | Path) -> Run:
    return gate("check", "--env", OLD_ML.relative_to(REPO), "--policy", EXAMPLE_POLICY.relative_to(REPO), "--db", db,
                "--now", EXAMPLE_NOW, *args)


def test_out_writes_every_output(gate: Callable[..., Run], example_db: Path, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    in_repository(monkeypatch)
    assert check(gate, example_db, "--out", tmp_path / "out").code == 1
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == [
        "environment.json", "gl-dependency-scanning-report.json", "record.dsse.json", "report.md", "result.json",
        "results.sarif", "sbom.cdx.json"]


@pytest.mark.parametrize("output_format", sorted(FILES))
def test_format_prints_the_same_document_as_the_file(gate: Callable[..., Run], example_db: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch, output_format: str) -> None:
    in_repository(monkeypatch)
    run = check(gate, example_db, "--out", tmp_path / "out", "--format", output_format)
    assert run.code == 1
    assert run.out == (tmp_path / "out" / FILES[output_format]).read_text(encoding="utf-8")
    # the summary lines still reach the log, on stderr
    assert "\ngate: FAIL (production): 15 blocking, 1 waived, 2 warnings; 13 packages" in run.err


def test_format_without_out_and_the_text_default(gate: Callable[..., Run], example_db: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    in_repository(monkeypatch)
    sarif = check(gate, example_db, "--format", "sarif")
    assert sarif.code == 1 and sarif.out.startswith("{\n  \"$schema\": ")
    text = check(gate, example_db)
    assert text.out.startswith("gate: FAIL (production): 15 blocking") and text.err == ""
    bad = check(gate, example_db, "--format", "html")
    assert bad.code == 2
    assert "'html' is not one of 'text', 'json', 'markdown', 'sarif', 'gitlab'" in bad.err
