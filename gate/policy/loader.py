"""Load, validate and merge policy files.

YAML is composed to nodes (``CSafeLoader``) and turned into plain data by hand so that every
value keeps its line: a schema error can then say ``file:line: key.path: what is wrong``.
Timestamps stay strings (the schema checks dates, :func:`datetime.date.fromisoformat` parses
them), duplicate keys are errors, and aliases are bounded so a YAML bomb cannot expand."""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

from gate.errors import PolicyError
from gate.model import Level, Target, Waiver
from gate.policy.model import (
    AdvisoryDbRules,
    ConsistencyRules,
    DeniedPackage,
    DriftRules,
    LicenseOverride,
    LicenseRules,
    ModelRules,
    OnFinding,
    OnUnknown,
    OnUnknownLicense,
    PackageRules,
    Policy,
    RecordRules,
    RegistryRules,
    SourceRules,
    VulnerabilityRules,
)
from gate.policy.schema import POLICY_SCHEMA
from gate.schema_validation import draft_2020_12
from gate.targets import normalise_platform

MAX_POLICY_BYTES = 1_000_000
MAX_NODES = 100_000
MAX_DEPTH = 32  # the deepest key path a policy has is 4 (vulnerabilities.waivers[0].expires)
MAX_INTEGER = 2**63 - 1  # every number a policy holds is a count of days or hours
MAX_EXTENDS_DEPTH = 10
SHIPPED_POLICIES = ("sandbox", "staging", "production")

_Path = tuple[str | int, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class _Document:
    """One policy file as plain data, with the line of every key path."""

    path: Path
    data: dict[str, Any]
    lines: dict[_Path, int]


def shipped_policy_dir() -> Path:
    """The folder of the policies we ship: inside the wheel, or ``policies/`` in a checkout."""
    packaged = Path(str(resources.files("gate"))) / "_policies"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "policies"


def resolve_policy_argument(argument: str) -> Path:
    """``--policy`` takes a path, or the bare name of a shipped policy (``production``)."""
    candidate = Path(argument)
    if candidate.exists() or argument not in SHIPPED_POLICIES:
        return candidate
    return shipped_policy_dir() / f"{argument}.yml"


def load_policy(path: Path) -> Policy:
    """Read ``path`` and its ``extends`` chain; return the validated, merged policy."""
    chain = _load_chain(path)
    merged: dict[str, Any] = {}
    for document in reversed(chain):
        merged = _merge(merged, {k: v for k, v in document.data.items() if k != "extends"})
    merged = {key: value for key, value in merged.items() if value is not None}
    return _build(path, merged)


def _load_chain(path: Path) -> list[_Document]:
    chain: list[_Document] = []
    seen: set[Path] = set()
    current: Path | None = path
    while current is not None:
        resolved = current.resolve()
        if resolved in seen:
            raise PolicyError(f"'extends' loops back to {current}", where=chain[-1].path,
                              line=chain[-1].lines.get(("extends",)), key_path="extends")
        if len(chain) >= MAX_EXTENDS_DEPTH:
            raise PolicyError(f"'extends' is nested deeper than {MAX_EXTENDS_DEPTH}", where=current)
        seen.add(resolved)
        document = _read_document(current)
        _validate(document)
        chain.append(document)
        parent = document.data.get("extends")
        current = _resolve_parent(document, parent) if parent is not None else None
    return chain


def _resolve_parent(document: _Document, parent: str) -> Path:
    local = document.path.parent / parent
    if local.is_file():
        return local
    shipped = shipped_policy_dir() / (parent if parent.endswith((".yml", ".yaml")) else f"{parent}.yml")
    if shipped.is_file():
        return shipped
    raise PolicyError(f"parent policy '{parent}' not found next to this file nor among the shipped "
                      f"policies ({', '.join(SHIPPED_POLICIES)})",
                      where=document.path, line=document.lines.get(("extends",)), key_path="extends")


def _read_document(path: Path) -> _Document:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise PolicyError("policy file not found", where=path) from None
    except OSError as error:
        raise PolicyError(f"cannot read policy file: {error.strerror}", where=path) from None
    if len(raw) > MAX_POLICY_BYTES:
        raise PolicyError(f"policy file is larger than {MAX_POLICY_BYTES} bytes", where=path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise PolicyError(f"not UTF-8 text (byte {error.start})", where=path) from None
    try:
        node = yaml.compose(text, Loader=yaml.CSafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        raise PolicyError(f"invalid YAML: {error.problem or error.context}", where=path, line=line) from None
    except yaml.reader.ReaderError as error:  # its str() spans lines and names no line
        character = error.character if isinstance(error.character, int) else ord(error.character[:1] or "\0")
        raise PolicyError(f"invalid YAML: unacceptable character #x{character:04x}: {error.reason}", where=path,
                          line=text.count("\n", 0, error.position) + 1) from None
    except yaml.YAMLError as error:
        raise PolicyError(f"invalid YAML: {str(error).splitlines()[0]}", where=path) from None
    if node is None:
        raise PolicyError("policy file is empty", where=path)
    lines: dict[_Path, int] = {}
    data = _NodeConverter(path, lines).convert(node, ())
    if not isinstance(data, dict):
        raise PolicyError("a policy must be a mapping of sections", where=path, line=node.start_mark.line + 1)
    return _Document(path=path, data=data, lines=lines)


class _NodeConverter:
    """Turn a composed YAML node tree into plain data, recording the line of each key path."""

    def __init__(self, path: Path, lines: dict[_Path, int]) -> None:
        self._path = path
        self._lines = lines
        self._nodes = 0
        self._constructor = yaml.constructor.SafeConstructor()

    def convert(self, node: yaml.Node, key_path: _Path) -> Any:
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise PolicyError(f"policy has more than {MAX_NODES} values (alias expansion?)",
                              where=self._path, line=node.start_mark.line + 1)
        if len(key_path) > MAX_DEPTH:  # also what ends an alias to an enclosing node (&a [*a])
            raise PolicyError(f"nested deeper than {MAX_DEPTH} levels", where=self._path,
                              line=node.start_mark.line + 1, key_path=_dotted(key_path[:1]))
        self._lines.setdefault(key_path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            result: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    raise PolicyError("mapping keys must be plain strings", where=self._path,
                                      line=key_node.start_mark.line + 1, key_path=_dotted(key_path))
                key = key_node.value
                if key in result:
                    raise PolicyError(f"duplicate key '{key}'", where=self._path,
                                      line=key_node.start_mark.line + 1, key_path=_dotted(key_path))
                self._lines[(*key_path, key)] = key_node.start_mark.line + 1
                result[key] = self.convert(value_node, (*key_path, key))
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(item, (*key_path, index)) for index, item in enumerate(node.value)]
        if node.tag == "tag:yaml.org,2002:timestamp":
            return node.value  # dates stay text; the schema and the builder check them
        try:
            value = self._constructor.construct_object(node)
        except (yaml.YAMLError, ValueError) as error:  # a YAML error's str() adds its position on a second line
            raise PolicyError(f"invalid value {node.value!r}: {str(error).splitlines()[0]}", where=self._path,
                              line=node.start_mark.line + 1, key_path=_dotted(key_path)) from None
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INTEGER:
            # YAML's 0x/0o/0b integers escape int()'s 4,300-digit limit, and messages repr() what they quote
            shown = node.value if len(node.value) <= 40 else node.value[:37] + "..."
            raise PolicyError(f"the integer {shown} is out of range", where=self._path,
                              line=node.start_mark.line + 1, key_path=_dotted(key_path))
        return value


def _dotted(key_path: _Path) -> str:
    text = ""
    for part in key_path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _line_for(document: _Document, key_path: _Path) -> int | None:
    while key_path:
        if key_path in document.lines:
            return document.lines[key_path]
        key_path = key_path[:-1]
    return document.lines.get(())


def _validate(document: _Document) -> None:
    validator = draft_2020_12()(POLICY_SCHEMA)
    errors = sorted(validator.iter_errors(document.data),
                    key=lambda e: (_line_for(document, tuple(e.absolute_path)) or 0, list(map(str, e.absolute_path))))
    if not errors:
        _check_values(document)
        return
    error = errors[0]
    key_path: _Path = tuple(error.absolute_path)
    message = error.message
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        unknown = sorted(set(error.instance) - set(allowed))
        name = unknown[0]
        key_path = (*key_path, name)
        hint = difflib.get_close_matches(name, allowed, n=1)
        message = f"unknown key '{name}'" + (f" (did you mean '{hint[0]}'?)" if hint else
                                             f" (allowed: {', '.join(allowed)})")
        raise PolicyError(message, where=document.path, line=_line_for(document, key_path),
                          key_path=_dotted(key_path))
    if error.validator == "enum":
        message = f"{error.instance!r} is not one of " + ", ".join(repr(v) for v in error.validator_value)
    elif error.validator == "pattern" and error.validator_value == POLICY_SCHEMA["properties"]["vulnerabilities"][
            "properties"]["waivers"]["items"]["properties"]["expires"]["pattern"]:
        message = f"{error.instance!r} is not a date (YYYY-MM-DD)"
    elif error.validator == "required":
        missing = [name for name in error.validator_value if name not in error.instance]
        message = f"missing required key '{missing[0]}'"
    elif error.validator == "type":
        message = f"{error.instance!r} is not of type '{error.validator_value}'"
    raise PolicyError(message, where=document.path, line=_line_for(document, key_path),
                      key_path=_dotted(key_path) or None)


def _check_values(document: _Document) -> None:
    """What JSON Schema cannot say: real calendar dates and PEP 440 specifiers."""
    vulnerabilities = document.data.get("vulnerabilities") or {}
    for index, waiver in enumerate(vulnerabilities.get("waivers") or []):
        key_path: _Path = ("vulnerabilities", "waivers", index, "expires")
        try:
            dt.date.fromisoformat(waiver["expires"])
        except ValueError:
            raise PolicyError(f"{waiver['expires']!r} is not a calendar date", where=document.path,
                              line=_line_for(document, key_path), key_path=_dotted(key_path)) from None
    _check_licenses(document)
    for index, entry in enumerate((document.data.get("packages") or {}).get("deny") or []):
        if "versions" in entry:
            _check_specifier(document, entry["versions"], ("packages", "deny", index, "versions"))
    url = (document.data.get("registry") or {}).get("url")
    if url is not None:
        _check_index_url(document, url, ("registry", "url"))


def _check_index_url(document: _Document, url: str, key_path: _Path) -> None:
    """The index URL must split into a host and a port (the schema checks only ``^https?://``)."""
    try:
        parts = urlsplit(url)
        host, _port = parts.hostname, parts.port  # reading the port raises ValueError for "x:abc", "x:99999"
    except ValueError as error:  # also an unclosed IPv6 host
        problem: str | None = str(error)
    else:
        problem = None if host else "no host"
    if problem is not None:
        raise PolicyError(f"{url!r} is not a URL the index can be reached at ({problem})", where=document.path,
                          line=_line_for(document, key_path), key_path=_dotted(key_path))


def _check_licenses(document: _Document) -> None:
    """Licence ids and expressions must be real SPDX: a typo would be a rule that never matches."""
    from gate.licenses import InvalidExpression, normalise_id, parse_expression

    licenses = document.data.get("licenses") or {}
    for list_name in ("allow", "deny"):
        for index, identifier in enumerate(licenses.get(list_name) or []):
            if normalise_id(identifier) is None:
                key_path: _Path = ("licenses", list_name, index)
                raise PolicyError(f"{identifier!r} is not an SPDX licence id", where=document.path,
                                  line=_line_for(document, key_path), key_path=_dotted(key_path))
    for index, entry in enumerate(licenses.get("overrides") or []):
        key_path = ("licenses", "overrides", index, "license")
        try:
            parse_expression(entry["license"])
        except InvalidExpression as error:
            raise PolicyError(f"{entry['license']!r} is not an SPDX expression ({error})", where=document.path,
                              line=_line_for(document, key_path), key_path=_dotted(key_path)) from None
        if "versions" in entry:
            _check_specifier(document, entry["versions"], ("licenses", "overrides", index, "versions"))


def _check_specifier(document: _Document, text: str, key_path: _Path) -> None:
    try:
        SpecifierSet(text)
    except InvalidSpecifier:
        raise PolicyError(f"{text!r} is not a PEP 440 version specifier", where=document.path,
                          line=_line_for(document, key_path), key_path=_dotted(key_path)) from None


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Maps merge by key, recursively; lists and scalars in ``override`` replace; null removes."""
    merged = dict(base)
    for key, value in override.items():
        if value is None:
            merged.pop(key, None)  # `section: null` switches off what the parent turned on
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _license_rules(section: dict[str, Any] | None) -> LicenseRules | None:
    if section is None:
        return None
    from gate.licenses import normalise_id

    def ids(name: str) -> frozenset[str]:
        return frozenset(str(normalise_id(identifier)) for identifier in section.get(name) or [])

    return LicenseRules(
        allow=ids("allow") if "allow" in section else None,
        deny=ids("deny"),
        deny_categories=frozenset(section.get("deny_categories") or []),
        unknown=OnUnknownLicense(section.get("unknown", "block")),
        overrides=tuple(
            LicenseOverride(package=canonicalize_name(entry["package"]),
                            versions=SpecifierSet(entry["versions"]) if "versions" in entry else None,
                            license=entry["license"], reason=entry["reason"])
            for entry in section.get("overrides") or []
        ),
    )


def _source_rules(section: dict[str, Any] | None) -> SourceRules | None:
    if section is None:
        return None
    indexes = section.get("indexes")
    channels = section.get("channels")
    return SourceRules(
        indexes=None if indexes is None else tuple(url.rstrip("/") for url in indexes),
        channels=None if channels is None else tuple(channels),
        forbid=frozenset(section.get("forbid") or []),
        require_hashes=section.get("require_hashes", False),
        require_pins=section.get("require_pins", False),
    )


def _model_rules(section: dict[str, Any] | None, *, base: Path) -> ModelRules | None:
    """Paths and manifest keys are relative to the folder of the policy file given (``--policy``)."""
    if section is None:
        return None
    import os

    def resolve(text: str) -> str:
        return os.path.realpath(base / text)

    manifest = section.get("manifest")
    allowed = section.get("allowed_formats")
    return ModelRules(
        paths=tuple(os.path.normpath(base / text) for text in section.get("paths") or []),
        allowed_formats=None if allowed is None else frozenset(allowed),
        unknown_format=OnUnknown(section.get("unknown_format", "block")),
        block_unsafe=section.get("block_unsafe", True),
        suspicious=OnFinding(section.get("suspicious", "warn")),
        manifest=None if manifest is None else tuple(sorted(
            (key, resolve(key), value.removeprefix("sha256:")) for key, value in manifest.items())),
        unlisted=OnFinding(section.get("unlisted", "block")),
    )


def policy_digest(effective: dict[str, Any]) -> str:
    canonical = json.dumps(effective, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def policy_from_effective(effective: dict[str, Any], *, path: str) -> Policy:
    """Rebuild a policy from its effective (merged) form, as a signed record keeps it, so a
    replay judges by exactly the rules that were in force. It is validated like a file."""
    document = _Document(path=Path(path), data=effective, lines={})
    _validate(document)
    return _build(Path(path), effective)


def _build(path: Path, merged: dict[str, Any]) -> Policy:
    advisory_db = merged.get("advisory_db")
    vulnerabilities = merged.get("vulnerabilities")
    packages = merged.get("packages")
    target = merged.get("target")
    return Policy(
        licenses=_license_rules(merged.get("licenses")),
        sources=_source_rules(merged.get("sources")),
        registry=None if "registry" not in merged else RegistryRules(
            url=merged["registry"].get("url", "https://pypi.org/simple").rstrip("/"),
            min_release_age_days=merged["registry"].get("min_release_age_days"),
            forbid_yanked=merged["registry"].get("forbid_yanked", False),
            verify_hashes=merged["registry"].get("verify_hashes", False),
            cache_max_age_hours=merged["registry"].get("cache_max_age_hours"),
        ),
        consistency=None if "consistency" not in merged else ConsistencyRules(
            enforce=merged["consistency"].get("enforce", True)),
        drift=None if "drift" not in merged else DriftRules(forbid=frozenset(merged["drift"].get("forbid") or [])),
        record=None if "record" not in merged else RecordRules(
            require_signature=merged["record"].get("require_signature", False)),
        models=_model_rules(merged.get("models"), base=path.parent),
        path=str(path),
        digest=policy_digest(merged),
        effective=merged,
        stage=merged.get("stage"),
        advisory_db=None if advisory_db is None else AdvisoryDbRules(max_age_days=advisory_db.get("max_age_days")),
        vulnerabilities=None if vulnerabilities is None else VulnerabilityRules(
            block_at=Level(vulnerabilities.get("block_at", "low")),
            unknown_severity=OnUnknown(vulnerabilities.get("unknown_severity", "block")),
            uncertain_match=OnUnknown(vulnerabilities.get("uncertain_match", "block")),
            waivers=tuple(
                Waiver(
                    id=entry["id"],
                    package=canonicalize_name(entry["package"]) if "package" in entry else None,
                    reason=entry["reason"],
                    owner=entry["owner"],
                    expires=dt.date.fromisoformat(entry["expires"]),
                )
                for entry in vulnerabilities.get("waivers") or []
            ),
        ),
        target=None if target is None else Target(
            python=target.get("python"),
            platform=normalise_platform(target["platform"]) if "platform" in target else None,
        ),
        packages=None if packages is None else PackageRules(
            deny=tuple(
                DeniedPackage(
                    name=canonicalize_name(entry["name"]),
                    versions=SpecifierSet(entry["versions"]) if "versions" in entry else None,
                    reason=entry["reason"],
                )
                for entry in packages.get("deny") or []
            ),
        ),
    )
