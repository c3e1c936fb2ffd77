"""A hostile candidate for the CI surfaces: an installed distribution whose name, and an advisory
whose summary and details, carry workflow commands, a mask request, a team mention, HTML, table
pipes and line breaks. ``make_hostile`` writes the environment, the advisory record and a
policy into a folder; the strings must come out of every CI output as inert text."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

# What a hostile package author controls: the distribution name (one METADATA header line) ...
HOSTILE_NAME = "evil::set-output name=x::y@org/team<script>|"
# ... and, as an advisory's author, free text with line breaks.
HOSTILE_TEXT = ("::set-output name=pwned::1\n::add-mask::ghp_secret\n@org/team <script>alert(1)</script> "
                "| a | b |\r\n::error file=x,line=1::forged\n##[warning]legacy")
# Substrings that must not survive in Markdown (comment, summary) as markup.
MARKDOWN_FORBIDDEN = ("<script>", "@org/team", "::set-output", "::add-mask::", "::error", "| a | b |",
                      "\n::", "\n##[")


@dataclass(frozen=True)
class Hostile:
    env: Path
    advisories: Path
    policy: Path


def make_hostile(root: Path) -> Hostile:
    site = root / "venv" / "lib" / "python3.11" / "site-packages"
    dist = site / "evil-1.0.dist-info"
    dist.mkdir(parents=True)
    (root / "venv" / "pyvenv.cfg").write_text("home = /usr/bin\nversion = 3.11.7\n", encoding="utf-8")
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {HOSTILE_NAME}\nVersion: 1.0\n"
                                   "License-Expression: MIT\n\n", encoding="utf-8")
    (dist / "INSTALLER").write_text("pip\n", encoding="utf-8")
    advisories = root / "advisories"
    advisories.mkdir()
    record = {
        "schema_version": "1.6.0",
        "id": "GHSA-hhhh-hhhh-hhhh",
        "modified": "2026-11-01T00:00:00Z",
        "published": "2026-11-01T00:00:00Z",
        "aliases": ["CVE-2026-99999"],
        "summary": HOSTILE_TEXT,
        "details": HOSTILE_TEXT,
        "affected": [{"package": {"ecosystem": "PyPI", "name": HOSTILE_NAME},
                      "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0"}]}]}],
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
    }
    (advisories / "GHSA-hhhh-hhhh-hhhh.json").write_text(json.dumps(record), encoding="utf-8")
    policy = root / "policy.yml"
    policy.write_text("stage: staging\nadvisory_db: {max_age_days: 36500}\nvulnerabilities: {block_at: high}\n"
                      f"packages:\n  deny:\n    - {{name: {json.dumps(HOSTILE_NAME)}, reason: "
                      f"{json.dumps(HOSTILE_TEXT)}}}\n", encoding="utf-8")
    return Hostile(env=root / "venv", advisories=advisories, policy=policy)
