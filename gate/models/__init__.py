"""Model files: inventory, hashes and static scanning (``gate check --models``).

:func:`inventory` discovers the model files under the paths given, identifies each one's format
from its bytes, hashes it (sha256, streamed) and lists the globals its pickle streams would
import, classified safe / suspicious / dangerous, without ever unpickling anything. The policy
section ``models`` judges the result (``gate.policy.rules.models``)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from gate.model import ModelFile
from gate.models.discover import MODEL_SUFFIXES, discover


def inventory(paths: list[Path], *, cards: bool = True) -> tuple[ModelFile, ...]:
    """Every model file under ``paths``, scanned, sorted by path."""
    from gate.models.card import read_card
    from gate.models.scan import scan_file

    files = []
    for candidate in discover(paths):
        if candidate.problem is not None:
            files.append(ModelFile(path=candidate.shown, real_path=candidate.real, size=0, sha256="",
                                   format="unknown", problems=(candidate.problem,)))
            continue
        scanned = scan_file(candidate.path, shown=candidate.shown, real=candidate.real)
        card = read_card(candidate.path) if cards else None
        files.append(scanned if card is None else replace(scanned, card=card))
    return tuple(files)


__all__ = ["MODEL_SUFFIXES", "inventory"]
