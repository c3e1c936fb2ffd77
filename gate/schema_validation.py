"""jsonschema for the gate's own documents (policy files, a stored result.json), imported without
its optional format libraries.

jsonschema imports, at import time, every library it finds installed for checking string formats.
The gate's schemas check no formats, and one of those libraries (rfc3987-syntax, which
jsonschema[format-nongpl] brings) compiles a grammar on import: 1.1 s added to a 0.35 s check,
seen in a CI image. Every runtime use of jsonschema goes through :func:`draft_2020_12`."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

FORMAT_LIBRARIES = ("fqdn", "idna", "isoduration", "jsonpointer", "rfc3339_validator", "rfc3986_validator",
                    "rfc3987", "rfc3987_syntax", "uri_template", "webcolors")


def draft_2020_12() -> type[Draft202012Validator]:
    """jsonschema's 2020-12 validator, its package imported without the format libraries when this
    process has not imported it already (a later ``import`` of one of them still works). Imported
    on call, not at the top: it is the slowest import of a check."""
    if "jsonschema" not in sys.modules:
        blocked = [name for name in FORMAT_LIBRARIES if name not in sys.modules]
        for name in blocked:
            sys.modules[name] = None  # type: ignore[assignment]  # makes ``import name`` fail fast
        try:
            import jsonschema  # noqa: F401
        finally:
            for name in blocked:
                if sys.modules.get(name, False) is None:
                    del sys.modules[name]
    from jsonschema import Draft202012Validator

    return Draft202012Validator
