from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

import pytest

from gate.errors import InputError
from gate.model import ModifiedFile
from gate.sources import record_check
from gate.sources.record_check import verify_installed_files
from tests.sources.helpers import add_dist, make_venv

SITE = "lib/python3.11/site-packages"


def digest(data: bytes, algorithm: str = "sha256") -> str:
    return base64.urlsafe_b64encode(hashlib.new(algorithm, data).digest()).rstrip(b"=").decode()


def install(site: Path, name: str, version: str, files: dict[str, bytes], *, extra_rows: tuple[str, ...] = ()) -> Path:
    """A distribution the way pip installs one: its files, then a RECORD with their real hashes."""
    dist_info = add_dist(site, name, version)
    rows = []
    for relative, data in files.items():
        target = (site / relative).resolve()
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        rows.append(f"{relative},sha256={digest(data)},{len(data)}")
    for listed in ("METADATA", "INSTALLER"):
        data = (dist_info / listed).read_bytes()
        rows.append(f"{dist_info.name}/{listed},sha256={digest(data)},{len(data)}")
    rows.append(f"{dist_info.name}/RECORD,,")
    rows.extend(extra_rows)
    (dist_info / "RECORD").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return dist_info


@pytest.fixture
def venv(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "venv"
    site = make_venv(root)
    install(site, "demo", "1.0", {
        "demo/__init__.py": b"print('hello')\n",
        "demo/core.py": b"VALUE = 1\n",
        "demo/data.bin": b"\x00" * 4096,
        "../../../bin/demo-tool": b"#!/usr/bin/env python\nimport demo\n",
    }, extra_rows=("demo/__pycache__/core.cpython-311.pyc,,",))
    install(site, "other_pkg", "2.0", {"other_pkg.py": b"x = 2\n"})
    return root, site


def test_a_clean_install_verifies(venv: tuple[Path, Path]) -> None:
    root, _ = venv
    assert verify_installed_files(root) == ()


def test_edited_resized_and_deleted_files(venv: tuple[Path, Path]) -> None:
    root, site = venv
    (site / "demo" / "core.py").write_bytes(b"VALUE = 2\n")  # same size, other content
    (site / "demo" / "__init__.py").write_bytes(b"print('hello')\nimport os\n")
    (root / "bin" / "demo-tool").unlink()
    assert verify_installed_files(root) == (
        ModifiedFile(package="demo", path="bin/demo-tool", problem="missing"),
        ModifiedFile(package="demo", path=f"{SITE}/demo/__init__.py", problem="size mismatch"),
        ModifiedFile(package="demo", path=f"{SITE}/demo/core.py", problem="hash mismatch"),
    )


def test_a_site_packages_directory_given_directly(venv: tuple[Path, Path]) -> None:
    _, site = venv
    (site / "other_pkg.py").write_bytes(b"x = 3\n")
    # The root is the prefix above lib/pythonX.Y/site-packages, so bin/ is still reachable.
    assert verify_installed_files(site) == (
        ModifiedFile(package="other-pkg", path=f"{SITE}/other_pkg.py", problem="hash mismatch"),)


def test_distributions_that_cannot_be_verified(venv: tuple[Path, Path]) -> None:
    root, site = venv
    add_dist(site, "norecord", "1.0")
    (site / "legacy-1.0-py3.11.egg-info").mkdir()
    (site / "devproject.egg-link").write_text("/src/devproject\n.\n", encoding="utf-8")
    assert verify_installed_files(root) == (
        ModifiedFile(package="devproject", path=f"{SITE}/devproject.egg-link",
                     problem="not verifiable: an .egg-link install records no file hashes"),
        ModifiedFile(package="legacy", path=f"{SITE}/legacy-1.0-py3.11.egg-info",
                     problem="not verifiable: an .egg-info install records no file hashes"),
        ModifiedFile(package="norecord", path=f"{SITE}/norecord-1.0.dist-info/RECORD",
                     problem="not verifiable: no RECORD"),
    )


def test_record_rows_that_cannot_be_checked(venv: tuple[Path, Path], tmp_path: Path) -> None:
    root, site = venv
    (tmp_path / "secret").write_bytes(b"outside")
    install(site, "odd", "1.0", {"odd.py": b"pass\n"}, extra_rows=(
        f"../../../../secret,sha256={digest(b'outside')},7",
        "/etc/hostname,sha256=abc,1",
        f"odd.py,md5={digest(b'pass', 'md5')},5",
        "odd.py,sha256,5",
        "odd.py,sha256=abc,five",
        "odd.py,sha256=abc",
    ))
    rel = f"{SITE}/odd-1.0.dist-info/RECORD"
    assert verify_installed_files(root) == (
        ModifiedFile(package="odd", path="../../../../secret", problem="not verifiable: outside the environment "
                                                                       "(not read)"),
        ModifiedFile(package="odd", path="/etc/hostname", problem="not verifiable: outside the environment (not read)"),
        ModifiedFile(package="odd", path=rel, problem="not verifiable: RECORD line 7 uses md5, which the wheel "
                                                      "specification forbids"),
        ModifiedFile(package="odd", path=rel, problem="not verifiable: RECORD line 8 has hash 'sha256', not "
                                                      "<algorithm>=<digest>"),
        ModifiedFile(package="odd", path=rel, problem="not verifiable: RECORD line 9 has size 'five', not a number"),
        ModifiedFile(package="odd", path=rel, problem="not verifiable: RECORD line 10 has 2 fields, not 3"),
    )


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links")
def test_links_are_not_followed(venv: tuple[Path, Path], tmp_path: Path) -> None:
    root, site = venv
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "core.py").write_bytes(b"VALUE = 1\n")
    (site / "demo" / "core.py").unlink()
    (site / "demo" / "core.py").symlink_to(outside / "core.py")  # same bytes, but not the installed file
    (site / "other_pkg.py").unlink()
    os.mkfifo(site / "other_pkg.py")  # a FIFO would block a reader that opened it
    assert verify_installed_files(root) == (
        ModifiedFile(package="demo", path=f"{SITE}/demo/core.py", problem="not verifiable: a symbolic link"),
        ModifiedFile(package="other-pkg", path=f"{SITE}/other_pkg.py", problem="not verifiable: not a regular file"),
    )


def test_a_linked_folder_that_leaves_the_environment(venv: tuple[Path, Path], tmp_path: Path) -> None:
    root, site = venv
    outside = tmp_path / "elsewhere"
    (site / "demo").rename(outside)
    (site / "demo").symlink_to(outside, target_is_directory=True)
    found = verify_installed_files(root)
    assert {(m.path, m.problem) for m in found} == {
        (f"demo/{name}", "not verifiable: outside the environment (not read)")
        for name in ("__init__.py", "core.py", "data.bin")}


def test_record_that_is_not_utf8(venv: tuple[Path, Path]) -> None:
    root, site = venv
    (site / "other_pkg-2.0.dist-info" / "RECORD").write_bytes(b"other_pkg.py,sha256=\xff,1\n")
    (problem,) = verify_installed_files(root)
    assert problem.package == "other-pkg"
    assert problem.path == f"{SITE}/other_pkg-2.0.dist-info/RECORD"
    assert problem.problem.startswith("not verifiable: RECORD not valid UTF-8 (invalid start byte: byte 0xff")


def test_record_rows_a_fuzzer_found(venv: tuple[Path, Path]) -> None:
    # benchmarks/fuzz_inputs.py: each raised ValueError from int() or os.lstat (exit 70); each is now a problem
    root, site = venv
    install(site, "odd", "1.0", {"odd.py": b"pass\n"}, extra_rows=(
        "odd.py,sha256=abc," + "1" * 5000,  # int() converts at most 4,300 digits
        "odd.py,sha256=abc,\u00b2",  # str.isdigit() says yes, int() says no
        "odd\x00.py,sha256=abc,5",  # os.lstat refuses a NUL
    ))
    rel = f"{SITE}/odd-1.0.dist-info/RECORD"
    assert verify_installed_files(root) == (
        ModifiedFile(package="odd", path=rel, problem="not verifiable: RECORD line 5 has a size of 5000 digits, "
                                                      "larger than any file"),
        ModifiedFile(package="odd", path=rel, problem="not verifiable: RECORD line 6 has size '\u00b2', not a number"),
        ModifiedFile(package="odd", path=rel, problem="not verifiable: RECORD line 7 names a path with a NUL "
                                                      "character"),
    )


def test_record_field_over_the_csv_limit(venv: tuple[Path, Path]) -> None:
    # benchmarks/fuzz_inputs.py: csv.Error escaped (exit 70); the RECORD is unverifiable, which blocks
    root, site = venv
    record = site / "other_pkg-2.0.dist-info" / "RECORD"
    record.write_text(record.read_text(encoding="utf-8") + "x" * 200_000 + ",sha256=abc,1\n", encoding="utf-8")
    assert verify_installed_files(root) == (
        ModifiedFile(package="other-pkg", path=f"{SITE}/other_pkg-2.0.dist-info/RECORD",
                     problem="not verifiable: RECORD line 5: field larger than field limit (131072)"),
    )


def test_work_is_bounded(venv: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    root, _ = venv
    monkeypatch.setattr(record_check, "MAX_ENTRIES", 3)
    with pytest.raises(InputError, match="over 3 files listed in RECORD files; refusing to verify them all"):
        verify_installed_files(root)


def test_not_an_environment(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a directory"):
        verify_installed_files(tmp_path / "absent")
