"""Paths and small builders shared by the advisory tests."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

from gate.model import Package

REPO = Path(__file__).resolve().parents[2]
OSV_ASSETS = REPO / "tests" / "assets" / "osv"
JSON_RECORDS = OSV_ASSETS / "json"  # the hand-written records, one JSON file each
YAML_CHECKOUT = OSV_ASSETS / "yaml"  # the same records laid out like a PyPA checkout
SHARED = REPO.parent / "shared"
SNAPSHOT_YAML_ZIP = SHARED / "advisories" / "pypa-advisory-db-2026-07-23.yaml.zip"
SNAPSHOT_JSON_ZIP = SHARED / "advisories" / "osv-pypi-2026-07-23.json.zip"
IMPORTED_AT = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)
SNAPSHOT_IMPORTED_AT = dt.datetime(2026, 7, 24, tzinfo=dt.UTC)


def zip_folder(folder: Path, archive: Path, *, prefix: str = "") -> Path:
    """Zip every file under ``folder`` (hidden ones too: the import must skip them itself)."""
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as out:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                out.write(path, prefix + path.relative_to(folder).as_posix())
    return archive


def pkg(name: str, version: str | None, *, pypi_name: str | None = "") -> Package:
    """A package as a reader would build it; ``pypi_name`` defaults to the name."""
    return Package(name=name, version=version, pypi_name=name if pypi_name == "" else pypi_name)
