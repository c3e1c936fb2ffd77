"""Builders for small installed environments in ``tmp_path``: the reader's edge cases (direct
URLs, egg-info, duplicates, broken files) are easier to state as a few files than to ship."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import ASSETS

OLD = ASSETS / "venvs" / "old-ml"
CURRENT = ASSETS / "venvs" / "current"
OLD_SITE = OLD / "lib" / "python3.11" / "site-packages"


def make_venv(root: Path, *, config: str = "home = /usr/bin\nversion = 3.11.7\n",
              site: str = "lib/python3.11/site-packages") -> Path:
    """A virtualenv skeleton; returns its site-packages directory."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyvenv.cfg").write_text(config, encoding="utf-8")
    directory = root / site
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def metadata_text(name: str, version: str, *, extra: str = "", body: str = "") -> str:
    text = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: test distribution\n{extra}"
    return text + (f"\n{body}" if body else "")


def add_dist(site: Path, name: str, version: str, *, folder: str | None = None, extra: str = "", body: str = "",
             installer: str | None = "pip", direct_url: dict[str, object] | None = None) -> Path:
    """A ``.dist-info`` the way pip writes it; returns the directory."""
    directory = site / (folder or f"{name.replace('-', '_')}-{version}.dist-info")
    directory.mkdir(parents=True)
    (directory / "METADATA").write_text(metadata_text(name, version, extra=extra, body=body), encoding="utf-8")
    if installer is not None:
        (directory / "INSTALLER").write_text(f"{installer}\n", encoding="utf-8")
    if direct_url is not None:
        (directory / "direct_url.json").write_text(json.dumps(direct_url), encoding="utf-8")
    return directory
