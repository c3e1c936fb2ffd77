"""cyclonedx-python-lib as the judge of the SBOMs the gate writes.

The gate builds its CycloneDX JSON itself (the library's model costs more than the rest of a
check: gate/sbom/cyclonedx.py says why). The tests hold it to the library twice over: the
library's strict 1.6 schema validator must accept the document, and the library's own model must
read it and write back the identical document, list order included.
"""

from __future__ import annotations

import copy
import json
from typing import Any


def validate(text: str) -> None:
    """The library's strict CycloneDX 1.6 JSON schema validator accepts the document."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    assert error is None, str(error)


def library_agrees(text: str) -> None:
    """The library reads the document into its model and writes back the same document. The model
    card is set aside first: the library has no model for it yet (the schema check covers it)."""
    from cyclonedx.model.bom import Bom
    from cyclonedx.output import make_outputter
    from cyclonedx.schema import OutputFormat, SchemaVersion

    document = json.loads(text)
    for component in document.get("components", []):
        component.pop("modelCard", None)
    # from_json is added by py_serializable's class decorator, which mypy cannot see
    bom = Bom.from_json(copy.deepcopy(document))  # type: ignore[attr-defined]
    rewritten = json.loads(make_outputter(bom, OutputFormat.JSON, SchemaVersion.V1_6).output_as_string())
    assert rewritten == document, first_difference(document, rewritten)


def first_difference(ours: Any, library: Any, path: str = "") -> str:
    """Where the library's document first differs from ours, as a JSON path with both values."""
    if isinstance(ours, dict) and isinstance(library, dict):
        for key in sorted(set(ours) | set(library)):
            if ours.get(key) != library.get(key):
                return first_difference(ours.get(key), library.get(key), f"{path}/{key}")
    if isinstance(ours, list) and isinstance(library, list) and len(ours) == len(library):
        for index, (mine, theirs) in enumerate(zip(ours, library, strict=True)):
            if mine != theirs:
                return first_difference(mine, theirs, f"{path}/{index}")
    return f"{path or '/'}: ours {json.dumps(ours)[:300]}, the library's {json.dumps(library)[:300]}"


def check(text: str) -> dict[str, Any]:
    """Both judgements; the parsed document for the test's own assertions."""
    validate(text)
    library_agrees(text)
    document: dict[str, Any] = json.loads(text)
    return document
