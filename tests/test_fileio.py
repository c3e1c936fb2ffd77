from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from gate.fileio import write_atomic


def test_outputs_are_readable_like_plain_files(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_atomic(tmp_path / "result.json", b"{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "result.json").stat().st_mode) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.json"]


def test_explicit_mode_for_secrets(tmp_path: Path) -> None:
    write_atomic(tmp_path / "key.pem", b"secret", mode=0o600)
    assert stat.S_IMODE((tmp_path / "key.pem").stat().st_mode) == 0o600


def test_a_failed_write_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "out" / "report.md"
    target.parent.mkdir()
    with pytest.raises(TypeError):
        write_atomic(target, "not bytes")  # type: ignore[arg-type]  # the wrong type on purpose
    assert list(target.parent.iterdir()) == []
