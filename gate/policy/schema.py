"""The JSON Schema of policy files, the single source of truth for what a policy may say.

`gate policy schema` prints it so editors and CI linters can validate policies too. Every
object sets ``additionalProperties: false``: a misspelt key is an error, never a silently
ignored rule."""

from __future__ import annotations

from typing import Any

from gate.licenses.spdx import CATEGORIES
from gate.model import MODEL_FORMATS
from gate.targets import PLATFORM_ALIASES, PLATFORMS

SCHEMA_ID = "https://promotion-gate.dev/schemas/policy-v1.json"

_LEVELS = ["critical", "high", "medium", "low"]
_BLOCK_OR_WARN = ["block", "warn"]
_DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"

POLICY_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": SCHEMA_ID,
    "title": "Promotion Gate policy",
    "description": "Declarative rules a candidate environment must meet to be promoted to a stage.",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "extends": {
            "description": "A parent policy: a path relative to this file, or the name of a shipped "
            "policy (sandbox, staging, production). Maps merge by key; lists replace.",
            "type": "string",
            "minLength": 1,
        },
        "stage": {"description": "The stage this policy guards.", "type": "string", "minLength": 1},
        "advisory_db": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "max_age_days": {
                    "description": "Refuse to judge (exit 4) when the newest advisory record is older than this.",
                    "type": "integer",
                    "minimum": 0,
                },
            },
        },
        "vulnerabilities": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "block_at": {
                    "description": "Findings at or above this severity block; lower ones are warnings.",
                    "enum": _LEVELS,
                },
                "unknown_severity": {
                    "description": "What a finding with no usable severity does.",
                    "enum": _BLOCK_OR_WARN,
                },
                "uncertain_match": {
                    "description": "What a finding does when a version could not be parsed as PEP 440 "
                    "(on the package or in the advisory range) and the gate had to assume 'affected'.",
                    "enum": _BLOCK_OR_WARN,
                },
                "waivers": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["id", "reason", "owner", "expires"],
                        "properties": {
                            "id": {"description": "Advisory ID or any alias.", "type": "string", "minLength": 1},
                            "package": {"description": "Limit the waiver to this package.",
                                        "type": "string", "minLength": 1},
                            "reason": {"type": "string", "minLength": 1},
                            "owner": {"type": "string", "minLength": 1},
                            "expires": {
                                "description": "Last day the waiver applies (YYYY-MM-DD).",
                                "type": "string",
                                "pattern": _DATE_PATTERN,
                            },
                        },
                    },
                },
            },
        },
        "target": {
            "description": "The interpreter and platform the environment is promoted to; selects what "
            "applies in a lockfile through its markers. `--target` overrides it.",
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "python": {"type": "string", "pattern": r"^3\.\d{1,2}(\.\d{1,3})?$"},
                "platform": {"enum": sorted([*PLATFORMS, *PLATFORM_ALIASES])},
            },
        },
        "licenses": {
            "description": "Licences a legal team accepts. Real AND/OR semantics over SPDX expressions.",
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "allow": {"description": "SPDX ids that are acceptable; absent means any not denied.",
                          "type": "array", "items": {"type": "string", "minLength": 1}},
                "deny": {"description": "SPDX ids that are never acceptable.",
                         "type": "array", "items": {"type": "string", "minLength": 1}},
                "deny_categories": {"description": "ScanCode licence categories that are never acceptable.",
                                    "type": "array", "items": {"enum": sorted(CATEGORIES)}},
                "unknown": {"description": "What an unresolved or uncategorised licence does.",
                            "enum": ["block", "warn", "allow"]},
                "overrides": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["package", "license", "reason"],
                        "properties": {
                            "package": {"type": "string", "minLength": 1},
                            "versions": {"type": "string", "minLength": 1},
                            "license": {"description": "The SPDX expression that really applies.",
                                        "type": "string", "minLength": 1},
                            "reason": {"type": "string", "minLength": 1},
                        },
                    },
                },
            },
        },
        "sources": {
            "description": "Where packages may come from and how exactly they must be locked.",
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "indexes": {"description": "Allowed index URL prefixes.",
                            "type": "array", "items": {"type": "string", "minLength": 1}},
                "channels": {"description": "Allowed conda channels (names or URLs).",
                             "type": "array", "items": {"type": "string", "minLength": 1}},
                "forbid": {"description": "Source kinds that are refused.",
                           "type": "array", "items": {"enum": ["vcs", "url", "path", "editable", "unknown"]}},
                "require_hashes": {"description": "Every artifact locked by a sha256 (or stronger) hash.",
                                   "type": "boolean"},
                "require_pins": {"description": "Every package pinned to one exact version.", "type": "boolean"},
            },
        },
        "registry": {
            "description": "Facts only the index knows: upload times, yanked releases, the hashes it serves.",
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "url": {"description": "The approved index (PEP 691 JSON simple API).", "type": "string",
                        "pattern": "^https?://"},
                # at most a century: a quarantine date past year 9999 cannot be computed, nor shown
                "min_release_age_days": {"type": "integer", "minimum": 0, "maximum": 36500},
                "forbid_yanked": {"type": "boolean"},
                "verify_hashes": {"type": "boolean"},
                "cache_max_age_hours": {
                    "description": "Use a cached index answer up to this old when the index cannot be "
                    "reached; absent means the index must answer (else exit 6).",
                    "type": "integer", "minimum": 0, "maximum": 876000},  # a century, as above
            },
        },
        "consistency": {
            "description": "Every requirement of every package is satisfied by the environment.",
            "type": "object",
            "additionalProperties": False,
            "properties": {"enforce": {"type": "boolean"}},
        },
        "drift": {
            "description": "Differences from a baseline (--baseline) that are refused.",
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "forbid": {"type": "array", "items": {"enum": ["added", "removed", "changed", "modified_files"]}},
            },
        },
        "models": {
            "description": "Model files (gate check --models, or `paths` here): their formats, the globals their "
            "pickles import, and the hashes they must have. Scanned statically; nothing is ever unpickled.",
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "paths": {"description": "Model files or folders to scan, relative to the policy file that sets "
                          "them; scanned with those given by --models.",
                          "type": "array", "items": {"type": "string", "minLength": 1}},
                "allowed_formats": {"description": "Formats that may be promoted (identified from the bytes); "
                                    "absent means any identified format.",
                                    "type": "array", "items": {"enum": list(MODEL_FORMATS)}},
                "unknown_format": {"description": "What a file whose format is not recognised does.",
                                   "enum": _BLOCK_OR_WARN},
                "block_unsafe": {"description": "Dangerous pickle imports, unsafe archives and files that cannot "
                                 "be scanned to the end block (false: they are warnings).", "type": "boolean"},
                "suspicious": {"description": "What a pickle import outside the allow list does.",
                               "enum": ["block", "warn", "allow"]},
                "manifest": {"description": "Expected sha256 per model file (path relative to the policy file): a "
                             "changed or missing file blocks.",
                             "type": "object",
                             "additionalProperties": {"type": "string", "pattern": r"^(sha256:)?[0-9a-f]{64}$"}},
                "unlisted": {"description": "What a scanned model file that the manifest does not list does.",
                             "enum": ["block", "warn", "allow"]},
            },
        },
        "record": {
            "description": "The signed audit record (record.dsse.json).",
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "require_signature": {
                    "description": "Refuse to judge (exit 5) when GATE_SIGNING_KEY is not set; otherwise an "
                    "unsigned record is written and the run says so.",
                    "type": "boolean"},
            },
        },
        "packages": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "deny": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["name", "reason"],
                        "properties": {
                            "name": {"type": "string", "minLength": 1},
                            "versions": {"description": "A PEP 440 specifier; absent means every version.",
                                         "type": "string", "minLength": 1},
                            "reason": {"type": "string", "minLength": 1},
                        },
                    },
                },
            },
        },
    },
}


def _nullable_sections(schema: dict[str, Any]) -> None:
    """A section may be ``null`` in a child policy: it switches off what the parent turned on."""
    for section in schema["properties"].values():
        if section.get("type") == "object":
            section["type"] = ["object", "null"]
            section["description"] = (section.get("description", "") + " Null switches the section off.").strip()


_nullable_sections(POLICY_SCHEMA)
