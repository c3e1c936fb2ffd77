"""A model card from the Hugging Face files beside a model: ``config.json`` and ``README.md``.

Only descriptive facts are read (architecture, model type, task, licence), from bounded files, with
the safe YAML loader; a file that is missing, too large or malformed adds nothing. The card feeds
the SBOM; no verdict rests on it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from gate.model import ModelCard

MAX_CARD_FILE = 1 << 20


def _read(path: Path) -> str | None:
    try:
        if not path.is_file() or path.stat().st_size > MAX_CARD_FILE:
            return None
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _text(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return " OR ".join(v.strip() for v in value if v.strip()) or None
    return None


def front_matter(readme: str) -> dict[str, Any]:
    """The YAML block between the leading ``---`` lines of a model README."""
    lines = readme.splitlines()
    if not lines or lines[0].strip() != "---":
        return {}
    for index, line in enumerate(lines[1:], start=1):
        if line.strip() == "---":
            try:
                data = yaml.load("\n".join(lines[1:index]), Loader=yaml.CSafeLoader)
            except (yaml.YAMLError, ValueError, RecursionError):  # ValueError: a timestamp like 2001-02-30
                return {}
            return data if isinstance(data, dict) else {}
    return {}


def read_card(model: Path) -> ModelCard | None:
    folder = model.parent
    sources: list[str] = []
    architecture = model_type = task = license_ = None
    config_text = _read(folder / "config.json")
    if config_text is not None:
        try:
            config = json.loads(config_text)
        except (ValueError, RecursionError):
            config = None
        if isinstance(config, dict):
            architectures = config.get("architectures")
            if isinstance(architectures, list) and architectures:
                architecture = _text(architectures[0])
            model_type = _text(config.get("model_type"))
            if architecture or model_type:
                sources.append("config.json")
    readme = _read(folder / "README.md")
    if readme is not None:
        meta = front_matter(readme)
        task = _text(meta.get("pipeline_tag"))
        license_ = _text(meta.get("license"))
        if task or license_:
            sources.append("README.md")
    if not sources:
        return None
    return ModelCard(architecture=architecture, model_type=model_type, task=task, license=license_,
                     sources=tuple(sources))
