"""Fuzz every input the gate reads with hostile but parseable data, through the whole check.

A bug is any run that ends in something other than a verdict or a deliberate, located error:
an exception that is not a :class:`gate.errors.GateError` (the CLI's "internal error", exit 70),
a hang, or an exit code the input cannot explain. Each run takes one real seed, mutates it and
runs, in-process, what ``gate check --lockfile X --out DIR`` (or ``--env``, ``--models``,
``--baseline``, ``gate policy check``) runs: read -> select -> match against the compiled
advisory database -> evaluate (policies/production.yml without the network section, or
sandbox) -> result.json, report.md, SBOM, SARIF, GitLab report, signed record. The CLI is
entered as :func:`gate.cli.main` enters it (``cli.main(standalone_mode=False)``), so the
exceptions it would turn into exit 70 are caught here with their traceback.

Targets and seeds (``--targets`` picks some; all by default):

- one per lockfile reader: requirements, pylock, uv.lock, poetry.lock, pdm.lock, Pipfile.lock,
  conda-lock, conda-explicit, conda-environment, cyclonedx. Seeds: tests/assets/lockfiles and
  ../shared/corpus (CycloneDX also the SBOMs the gate writes for those seeds);
- venv: tests/assets/venvs (METADATA, INSTALLER, direct_url.json, WHEEL, RECORD, pyvenv.cfg,
  .egg-info, .egg-link, files where folders belong and the reverse);
- baseline: result.json files the gate writes for the seeds, given to ``--baseline``;
- policy: policies/*.yml and the test policies, through ``gate policy check`` and, when valid,
  a check judged by them (offline);
- models: real model files made with tests/models/helpers.py (torch, joblib, safetensors, ONNX,
  GGUF, numpy, pickles, zips) and their config.json / README.md cards, through ``--models``;
- advisories: OSV records (tests/assets/example, tests/assets/osv, 300 from the shared snapshot)
  through ``gate db import``, then a check of the packages they name at versions from their
  ranges (or hostile ones) against that database: odd versions on both sides of a match;
- record: record.dsse.json files the gate writes for the seeds, their statements mutated and
  signed again (so they verify), through ``gate verify``, ``gate replay`` and ``gate drift``.

Mutations: structure-aware ones parse the seed (TOML, JSON, YAML, requirement lines, METADATA
headers, zip members, the safetensors header), then replace values with values of other types
or hostile strings (non-PEP 440 versions, odd names, bad hashes and URLs, NUL, control and
bidi characters, 100 kB strings), delete and duplicate keys and entries, swap values between
places, and write raw text a serializer would not (integers of 5000 digits, nesting 100,000
deep); a third of tree mutations are targeted instead, putting odd but readable versions, names,
markers, hashes and URLs under those keys so that the run reaches matching, the rules and the
renderers; byte-level ones flip, insert, delete, duplicate and truncate bytes, add BOMs, CRLF or
lone CR line ends and invalid UTF-8. Large seeds have their long arrays sampled to 40 entries.

Besides crashes it reports, once per kind: an exit code the target does not allow, an error
message that names no file or carries a library's extra lines (a caret line), and packages judged
under a blank name or one holding whitespace (a reader that took a name no format allows).

Each distinct crash (exception type + innermost frame inside gate/) is printed once, its input
minimised (entries deleted, JSON/TOML/YAML structure, then lines, then bytes, while the same
crash persists) and saved with its command and traceback under ``WORK/crashes/``.

Run (from the repository, with the project venv; the advisory DB is compiled on first use, seeds
are made once into ``WORK/seeds``; give ``--db`` to reuse a compiled database). It is a script,
not a test: the suite's default run does not collect benchmarks/.

    .venv/bin/python benchmarks/fuzz_inputs.py --budget 600            # all targets, 10 minutes
    .venv/bin/python benchmarks/fuzz_inputs.py --budget 120 --targets uv.lock,venv --seed 7
    .venv/bin/python benchmarks/fuzz_inputs.py --replay 1234 --seed 7  # iteration 1234 again, verbose

Deterministic: iteration N of seed S always runs the same target on the same mutated input, so
``--replay`` reproduces what a timed run found (``--runs`` bounds the count instead of time).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import io
import json
import math
import os
import random
import re
import resource
import shutil
import signal
import stat
import struct
import subprocess
import sys
import time
import tomllib
import traceback
import warnings
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

warnings.simplefilter("ignore")  # zipfile's duplicate-name warnings are what some mutations are for

REPO = Path(__file__).resolve().parents[1]
ASSETS = REPO / "tests" / "assets"
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus"
SNAPSHOT = SHARED / "advisories" / "osv-pypi-2026-07-23.json.zip"
NOW = "2026-07-24T12:00:00Z"  # a day after the snapshot: inside production's advisory_db.max_age_days
RUN_TIMEOUT = 30.0  # seconds; a run on a sampled seed takes well under one
MAX_TREE_LIST = 40

sys.path.insert(0, str(REPO))

# --- hostile values -------------------------------------------------------------------------------

HOSTILE_STRINGS = [
    "", " ", "\t", "\n", "\r\n", "\x00", "a\x00b", "\x7f", "\x1b[31mred", "\u202eevil", "\ufeff", "\u2028",
    "İ", "ß", "ǅ", "🤖", "名前", "é" * 3,
    "1", "0", "-1", "1.0", "1.0.0", "v1.0", "1.0+local", "1.0+cu118", "1!2.0", "1.0.post1.dev2", "1.0rc1",
    "1.0-1", "01.02", "1.0.*", "1.*", "*", "latest", "not a version", "1.0 ", " 1.0", "1..0", "1.0.", ".1", "1_0",
    "2023-01-01", "1e3", "9" * 40, "1." * 200, "0x10", "nan", "inf", "None", "null", "true",
    "==1.0", ">=1,<2", "~=1.0", "===weird", "!=1.*", ">=1;", "<2.6", "== 1.0", "(>=1)",
    "pkg", "Pkg_Name", "pkg.name", "-pkg", "pkg-", "_", ".", "..", "pkg[extra]", "pkg[", "pkg @ x", "pkg;x", "pkg name",
    "sha256:" + "a" * 64, "sha256:", "sha256:zz", "md5:abc", "sha256=" + "b" * 64, ":" + "c" * 64, "sha256:" + "A" * 64,
    "sha1:" + "d" * 40, "blake2b:" + "e" * 128, "%", "%zz", "%00", "a%2Fb",
    "https://", "https://pypi.org/simple", "https://x%zz/simple", "http://[::1", "http://[::1]:99999/",
    "https://user:pass@host/", "file:///etc/passwd", "file:", "git+https://github.com/x/y.git@main",
    "git+https://x@", "git+", "ssh://git@github.com:x/y", "javascript:alert(1)", "//x", "\\\\server\\share",
    "C:\\x\\y.whl", "/", "../../../etc/passwd", "./x", "~", "${HOME}", "$(id)", "`id`", "|", "&&",
    "python_version < '3.8'", "python_version < '3.8' and", "sys_platform == 'linux' or extra == 'x'",
    "extra == 'a b'", "python_version > 'x.y'", "platform_release >= '5.10'", "implementation_name == 'cp'",
    "<script>alert(1)</script>", "[x](javascript:1)", "| a | b |", "**bold**", "<!-- x -->", "{{ x }}", "{% x %}",
    "::error::forged", "##[error]x", "\n::error::x", "@EXPLICIT", "-e .", "--hash=sha256:00", "#egg=x", "a # b",
    "MIT", "GPL-3.0-only", "MIT OR", "(MIT", "LicenseRef-x", "MIT WITH x", "Apache-2.0 AND (MIT OR BSD-3-Clause)",
    "linux-64", "noarch", "osx-arm64", "win-64", "conda-forge", "pypi", "x" * 300, "y" * 100_000,
]
OTHER_VALUES: list[Any] = [None, True, False, 0, -1, 1, 2**31, 2**63, 2**64 + 1, -(2**63) - 1, 1.5, -0.0,
                           float("nan"), float("inf"), float("-inf"), [], {}, [""], [None], {"": ""}, {"a": 1},
                           [[[[[]]]]], dt.date(2020, 1, 1), dt.datetime(2020, 1, 1, 12, 0, tzinfo=dt.UTC)]


@dataclass(frozen=True)
class Raw:
    """Text written verbatim where a value goes: what no serializer writes for a Python value."""

    text: str


RAW_TEXTS = {
    "json": ["1" * 5000, "-" + "9" * 5000, "1e999", "[" * 100_000 + "]" * 100_000, '{"a":' * 3000 + "1" + "}" * 3000,
             "[" * 900 + "]" * 900, "1.0e-99999"],
    "toml": ["1" * 5000, "[" * 100_000 + "]" * 100_000, "{a=" * 3000 + "1" + "}" * 3000, "[" * 900 + "]" * 900,
             "0x" + "f" * 5000, "1979-05-27T00:32:00.999999-07:00", "00:32:00"],
    "yaml": ["1" * 5000, "[" * 100_000 + "]" * 100_000, "{a: " * 3000 + "1" + "}" * 3000, "[" * 900 + "]" * 900,
             "!!python/object:os.system x", "!!binary AAAA", "*undefined", "&a [*a]", "2001-12-14t21:59:43.10-05:00",
             "0o17", "1_000", "!!int 0x" + "f" * 5000, "!!float x", "!!timestamp 2001-02-30"],
}

# --- serializers ----------------------------------------------------------------------------------

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _toml_string(text: str) -> str:
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        elif 0xD800 <= ord(char) <= 0xDFFF:
            out.append("\\ufffd")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _toml_key(key: object) -> str:
    text = str(key)
    return text if _BARE_KEY.fullmatch(text) else _toml_string(text)


def _toml_value(value: Any) -> str:
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value if v is not None) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items() if v is not None) + "}"
    return _toml_string(str(value))


def dump_toml(document: Any, rng: random.Random) -> str:
    """TOML as lock writers lay it out: scalars first, then ``[table]`` and ``[[array]]`` sections
    (sometimes one level of ``[a.b]`` sub-tables, sometimes everything inline). ``None`` is left out
    (TOML has no null)."""
    if not isinstance(document, dict):
        return "value = " + _toml_value(document) + "\n"
    inline = rng.random() < 0.1
    lines: list[str] = []
    sections: list[str] = []
    for key, value in document.items():
        if value is None:
            continue
        if not inline and isinstance(value, dict) and not isinstance(value, Raw):
            sections.append(_toml_table(f"[{_toml_key(key)}]", _toml_key(key), value, rng, array=False))
        elif not inline and isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            sections.extend(_toml_table(f"[[{_toml_key(key)}]]", _toml_key(key), v, rng, array=True) for v in value)
        else:
            lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
    return "\n".join([*lines, "", *sections]) + "\n"


def _toml_table(header: str, name: str, table: dict[str, Any], rng: random.Random, *, array: bool) -> str:
    lines = [header]
    subs = []
    for key, value in table.items():
        if value is None:
            continue
        if isinstance(value, dict) and rng.random() < 0.5:
            sub = [f"[{name}.{_toml_key(key)}]"]
            sub.extend(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items() if v is not None)
            subs.append("\n".join(sub))
        else:
            lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
    return "\n".join(lines) + "\n" + ("\n" + "\n\n".join(subs) + "\n" if subs else "")


def _json_value(value: Any, indent: int | None, depth: int) -> str:
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, dict):
        items = [f"{json.dumps(str(k))}: {_json_value(v, indent, depth + 1)}" for k, v in value.items()]
        return _json_join("{", items, "}", indent, depth)
    if isinstance(value, list):
        return _json_join("[", [_json_value(v, indent, depth + 1) for v in value], "]", indent, depth)
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return json.dumps(value.isoformat())
    if isinstance(value, int) and not isinstance(value, bool):
        return int.__repr__(value)
    return json.dumps(value)


def _json_join(open_: str, items: list[str], close: str, indent: int | None, depth: int) -> str:
    if indent is None or not items:
        return open_ + ", ".join(items) + close
    pad = "\n" + " " * (indent * (depth + 1))
    return open_ + pad + ("," + pad).join(items) + "\n" + " " * (indent * depth) + close


def dump_json(document: Any, indent: int | None = 2) -> str:
    return _json_value(document, indent, 0) + "\n"


def _plain(value: Any) -> Any:
    """A copy with Raw values turned into marker strings, for yaml.safe_dump."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, Raw):
        return f"QQRAW{id(value)}QQ"
    return value


def _raws(value: Any) -> Iterator[Raw]:
    if isinstance(value, dict):
        for v in value.values():
            yield from _raws(v)
    elif isinstance(value, list):
        for v in value:
            yield from _raws(v)
    elif isinstance(value, Raw):
        yield value


def dump_yaml(document: Any, rng: random.Random) -> str:
    text = yaml.safe_dump(_plain(document), sort_keys=False, allow_unicode=rng.random() < 0.7, width=10**6,
                          default_flow_style=rng.random() < 0.05)
    for raw in _raws(document):
        text = text.replace(f"QQRAW{id(raw)}QQ", raw.text, 1)
    return text


# --- tree mutations -------------------------------------------------------------------------------


def _slots(document: Any, limit: int = 20_000) -> list[tuple[Any, Any]]:
    """(container, key) of every value in the tree, containers included, breadth first."""
    found: list[tuple[Any, Any]] = []
    queue: list[Any] = [document]
    while queue and len(found) < limit:
        node = queue.pop(0)
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, value in items:
            found.append((node, key))
            if isinstance(value, dict | list):
                queue.append(value)
    return found


def _strings(document: Any) -> list[str]:
    return [c[k] for c, k in _slots(document, 5000) if isinstance(c[k], str)]


def _keys(document: Any) -> list[str]:
    return [k for c, k in _slots(document, 5000) if isinstance(k, str)]


def _tweak_string(text: str, rng: random.Random) -> str:
    choice = rng.randrange(8)
    if choice == 0:
        return text + rng.choice(HOSTILE_STRINGS)[:50]
    if choice == 1:
        return rng.choice(HOSTILE_STRINGS)[:50] + text
    if choice == 2 and text:
        cut = rng.randrange(len(text))
        return text[:cut]
    if choice == 3:
        return text.upper()
    if choice == 4 and text:
        at = rng.randrange(len(text))
        inserted = rng.choice(["\x00", "\n", "%", "@", "#", ";", " ", "\\", '"', "'", "\u0301", "..", "/"])
        return text[:at] + inserted + text[at:]
    if choice == 5:
        return re.sub(r"\d+", lambda m: rng.choice(["", "0", "9" * 20, "x", m.group(0) * 3]), text, count=1)
    if choice == 6:
        return text * rng.choice([2, 50])
    return text.replace(".", rng.choice(["", "-", "..", "_", "!"]), 1)


def hostile_value(rng: random.Random, strings: list[str], fmt: str) -> Any:
    roll = rng.random()
    if roll < 0.35:
        return rng.choice(HOSTILE_STRINGS)
    if roll < 0.55 and strings:
        return _tweak_string(rng.choice(strings), rng)
    if roll < 0.65 and strings:
        return rng.choice(strings)
    if roll < 0.72:
        return Raw(rng.choice(RAW_TEXTS[fmt]))
    value = rng.choice(OTHER_VALUES)
    return json.loads(json.dumps(value, default=str)) if isinstance(value, list | dict) else value


# Values a reader may well accept, so that the run gets past it into matching, the rules and the
# renderers: what a key of that name holds in some real file, or could.
WEIRD_VERSIONS = ["1.0-foo", "2024.01.01.1", "1.0+local.x-y", "v1.2", "1!0.1", "1.0.0.0.0.0.0.0", "0", "0.0.0",
                  "99999999999999999999", "1.0.post1.dev2+abc", "1.0a", "1.0rc", "1.0.dev", "1.0-1", "1.0_1", "1.0.*",
                  "2.0.0b1", "1.0+cu128", "latest", "1.0 ", "1.0\t", "0.0.0-dev", "1.0e3", "1..0", "1.0.", "N/A",
                  "2!1.0", "1.0+", "1.0.0+ubuntu1~22.04", "20030821", "1_000", "1.0.0-rc.1+build.5"]
WEIRD_NAMES = ["Requests", "requests_", "REQUESTS", "zope.interface", "Zope_Interface", "torch", "a", "x-", "_private",
               "backports.zoneinfo", "pkg--name", "pkg..name", "1", "Ǆ", "requests\u200b", "python", "pip"]
MARKERS = ["python_version >= '3.8'", "python_version < '3'", "sys_platform == 'win32'", "extra == 'dev'",
           "'dev' in dependency_groups", "'cuda' in extras", "platform_machine == 'arm64'",
           "python_full_version < '3.11.0a1'", "implementation_name == 'pypy'", "os_name == 'nt' and extra == 'x'",
           "sys_platform == 'emscripten'", "python_version > '3.99'", "platform_release >= '5.10'",
           "python_version == '3.11.*'", "platform_system == 'Darwin' or platform_system == 'Linux'"]
HASHES = ["sha256:" + "0" * 64, "sha512:" + "1" * 128, "md5:" + "2" * 32, "sha384:" + "3" * 96, "blake2b:" + "4" * 128,
          "sha256:" + "A" * 64, "sha1:" + "5" * 40, "sha256:abc"]
URLS = ["https://pypi.org/simple", "https://example.org/simple/", "http://insecure.example/simple", "file:///tmp/w",
        "https://download.pytorch.org/whl/cu128", "https://user:secret@private.example/simple", "../relative",
        "https://files.example/x-1.0-py3-none-any.whl", "git+https://github.com/x/y.git@" + "a" * 40,
        "https://conda.anaconda.org/conda-forge", "conda-forge", "pytorch", "https://x.example/%zz"]
TARGETED = {"version": WEIRD_VERSIONS, "name": WEIRD_NAMES, "marker": MARKERS, "markers": MARKERS,
            "hash": HASHES, "url": URLS, "registry": URLS, "index": URLS, "source": URLS, "purl": [
                "pkg:pypi/requests@2.0.0", "pkg:pypi/Requests@1.0", "pkg:conda/numpy@1.0?channel=conda-forge",
                "pkg:pypi/a%20b@1", "pkg:npm/left-pad@1.0", "pkg:pypi/requests", "pkg:pypi/@1"]}


def mutate_targeted(document: Any, rng: random.Random) -> Any:
    """Replace one to three values under keys such as ``version``, ``name``, ``marker`` or ``url`` with
    values a reader may accept, in place (and return the document)."""
    candidates = [(c, k) for c, k in _slots(document) if isinstance(k, str) and k in TARGETED
                  and isinstance(c[k], str | list)]
    for container, key in rng.sample(candidates, min(len(candidates), rng.choice([1, 2, 3]))):
        value = rng.choice(TARGETED[key])
        if isinstance(container[key], list):
            container[key] = [value]
        else:
            container[key] = value
    return document


def _copy(value: Any) -> Any:
    return json.loads(dump_json(_plain(value))) if isinstance(value, dict | list) else value


def mutate_tree(document: Any, rng: random.Random, fmt: str) -> Any:
    """Apply one to four structural mutations to a parsed document, in place (and return it); a
    third of the time, targeted ones that keep the document readable (:func:`mutate_targeted`)."""
    if rng.random() < 0.33:
        return mutate_targeted(document, rng)
    strings = _strings(document)
    keys = _keys(document)
    for _ in range(rng.choice([1, 1, 1, 2, 2, 3, 4])):
        slots = _slots(document)
        if not slots:
            return hostile_value(rng, strings, fmt)
        container, key = rng.choice(slots)
        value = container[key]
        action = rng.randrange(10)
        if action <= 2:
            container[key] = hostile_value(rng, strings, fmt)
        elif action == 3:
            if isinstance(container, dict):
                del container[key]
            else:
                container.pop(key)
        elif action == 4 and isinstance(container, list):
            copy = json.loads(dump_json(_plain(value))) if not isinstance(value, Raw) else value
            container.insert(rng.randrange(len(container) + 1), copy)
        elif action == 5 and isinstance(value, str):
            container[key] = _tweak_string(value, rng)
        elif action == 6:  # swap copies: swapping a container into itself would make a cycle
            other_container, other_key = rng.choice(slots)
            other = other_container[other_key]
            container[key] = _copy(other)
            other_container[other_key] = _copy(value)
        elif action == 7 and isinstance(container, dict):
            new_key = rng.choice(keys + HOSTILE_STRINGS[:60]) if keys else "x"
            container[new_key] = hostile_value(rng, strings, fmt)
        elif action == 8:
            container[key] = rng.choice([[value], {rng.choice(keys or ["x"]): value}, [value, value]])
        elif isinstance(value, dict | list) and value:
            container[key] = type(value)() if rng.random() < 0.5 else json.loads(dump_json(_plain(value)))
        else:
            container[key] = hostile_value(rng, strings, fmt)
    return document


# --- byte and line mutations ----------------------------------------------------------------------

INTERESTING_BYTES = [b"\x00", b"\xff", b"\xc3", b"\xe2\x80\xae", b"\r", b"\n", b'"', b"'", b"[", b"]", b"{", b"}",
                     b"\\", b"#", b";", b"@", b"=", b":", b",", b" ", b"\t", b"\x80", b"\xed\xa0\x80", b"\xc0\xaf",
                     b"-", b"*", b"&", b"!", b"|", b">", b"%"]


def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    for _ in range(rng.choice([1, 1, 2, 3])):
        choice = rng.randrange(12)
        at = rng.randrange(len(data) + 1)
        if choice == 0 and data:
            i = rng.randrange(len(data))
            data = data[:i] + bytes([data[i] ^ (1 << rng.randrange(8))]) + data[i + 1:]
        elif choice == 1:
            data = data[:at] + rng.choice(INTERESTING_BYTES) + data[at:]
        elif choice == 2 and data:
            end = min(len(data), at + rng.choice([1, 2, 8, 64, 1024]))
            data = data[:at] + data[end:]
        elif choice == 3:
            data = data[:at]
        elif choice == 4 and data:
            end = min(len(data), at + rng.choice([1, 16, 256]))
            data = data[:end] + data[at:end] + data[end:]
        elif choice == 5:
            data = rng.choice([b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf\xef\xbb\xbf"]) + data
        elif choice == 6:
            data = data.replace(b"\r\n", b"\n").replace(b"\n", rng.choice([b"\r\n", b"\r", b"\n\n"]))
        elif choice == 7:
            data = rng.choice([b"", b" ", b"\n", b"\x00", b"\xef\xbb\xbf", b"{}", b"[]", b"---\n", b"null"])
        elif choice == 8:
            data = data[:at] + b"\x00" * rng.choice([1, 100]) + data[at:]
        elif choice == 9:
            data = data + rng.choice([b"\\", b"\\\n", b"[", b"{", b"'", b'"', b"\n[[package]]\n", b"\x00"])
        elif choice == 10:
            data = data[:at] + data[at:].replace(b"\n", b"\n ", 1)
        else:
            data = data[:at] + data[at:].replace(b" ", b"\t", 1)
    return data


def mutate_lines(text: str, rng: random.Random, snippets: list[str]) -> str:
    lines = text.splitlines()
    strings = [token for line in lines for token in re.split(r"[\s;=<>~!@#,\[\]]+", line) if token]
    for _ in range(rng.choice([1, 1, 2, 3, 5])):
        choice = rng.randrange(9)
        at = rng.randrange(len(lines) + 1)
        if choice <= 2 or not lines:
            snippet = rng.choice(snippets)
            lines.insert(at, snippet.replace("{S}", rng.choice(HOSTILE_STRINGS)[:80]))
        elif choice == 3:
            lines.pop(min(at, len(lines) - 1))
        elif choice == 4:
            i = min(at, len(lines) - 1)
            lines.insert(i, lines[i])
        elif choice == 5:
            i = min(at, len(lines) - 1)
            tokens = re.split(r"(\s+|==|>=|<=|~=|!=|===|;|@|#|,|\[|\]|=)", lines[i])
            candidates = [j for j, t in enumerate(tokens) if t and not t.isspace()]
            if candidates:
                j = rng.choice(candidates)
                roll = rng.random()
                tokens[j] = (rng.choice(HOSTILE_STRINGS)[:200] if roll < 0.5 else rng.choice(strings) if roll < 0.7
                             else _tweak_string(tokens[j], rng))
                lines[i] = "".join(str(t) for t in tokens)
        elif choice == 6:
            i = min(at, len(lines) - 1)
            lines[i] = lines[i] + rng.choice([" \\", "\\", " # c", " ; python_version < '3'", " --hash", " ;",
                                              " --hash=sha256:" + "a" * 64, " --hash=md5:00", " @ x", "#md5=00",
                                              "#sha256=" + "f" * 64])
        elif choice == 7:
            i = min(at, len(lines) - 1)
            version = rng.choice([*HOSTILE_STRINGS, *WEIRD_VERSIONS])[:60].replace(" ", "")
            lines[i] = re.sub(r"==\S+", "==" + version.replace("\\", "\\\\"), lines[i], count=1)
        else:
            i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines) + rng.choice(["\n", "", "\n\n"])


REQUIREMENT_SNIPPETS = [
    "-r base.txt", "-r requirements.txt", "-r ./", "-r .", "-r /dev/null", "-r missing.txt", "-r {S}",
    "-c constraints.txt", "-c requirements.txt", "-r https://example.com/r.txt", "--index-url https://pypi.org/simple",
    "-i {S}", "-i", "--index-url", "--extra-index-url {S}", "--extra-index-url https://x.example/simple",
    "--find-links ./wheels", "-f {S}", "--no-index",
    "--trusted-host {S}", "--pre", "--only-binary :all:", "--no-binary {S}", "--require-hashes", "--use-feature {S}",
    "-e .", "-e ./vendor/vendored[extra]", "-e git+https://github.com/x/y.git@main#egg=y", "-e", "-e {S}",
    "--editable={S}",
    "pkg==1.0 --hash=sha256:" + "a" * 64, "pkg=={S}", "{S}==1.0", "pkg==1.0 --hash={S}", "pkg===weird version",
    "pkg==1.0.*", "pkg @ file:///tmp/x.whl", "pkg @ {S}", "pkg @ https://x/pkg-1.0-py3-none-any.whl",
    "https://x/pkg-1.0-py3-none-any.whl", "https://x/{S}.whl", "https://x/notawheel-.whl", "./local/dir", "x.whl",
    "{S}.whl", "file:x-1-py3-none-any.whl", "git+https://x", "git+https://x@", "git+https://x#egg=", "git+{S}",
    "#egg=x",
    "pkg[extra==1", "pkg ; {S}", "pkg==1 ; sys_platform == 'linux' --hash=sha256:" + "b" * 64, "${VAR}==1",
    "pkg==${VER}", "--config-settings key=value", "-C", "--global-option=--x", "pkg==1 \\", "\\", "'quoted", '"',
    "pkg==1 '--hash=sha256:aa'", "-r 'with space.txt'", "--hash=sha256:" + "c" * 64, "--{S}", "-{S}", "{S}",
    "pkg==1.0 -C key={S}", "pkg[{S}]==1", "pkg (==1.0)", "pkg==1.0 --hash=sha256:{S}",
    "numpy==1.26.4 ; python_version >= '3.11'",
]
CONDA_EXPLICIT_SNIPPETS = [
    "@EXPLICIT", "@EXPLICIT {S}", "# platform: linux-64", "# platform: {S}",
    "# This file may be used to create an environment",
    "https://conda.anaconda.org/conda-forge/linux-64/numpy-1.26.4-py311h64a7726_0.conda#" + "a" * 32,
    "https://conda.anaconda.org/conda-forge/linux-64/numpy-1.26.4-py311h64a7726_0.conda#sha256=" + "b" * 64,
    "https://conda.anaconda.org/conda-forge/noarch/{S}-1.0-0.tar.bz2", "https://conda.anaconda.org/conda-forge/linux-64/x-{S}-0.conda",
    "https://x/a-b.conda", "https://x/-.conda", "https://x/numpy-1.0-0.tar.bz2#", "https://x/numpy-1.0-0.tar.bz2#{S}",
    "file:///x/numpy-1.0-0.tar.bz2", "file:{S}", "https://", "{S}", "numpy=1.0=py_0", "-e .", "https://x/y/z/numpy-1.0-0.whl",
    "https://conda.anaconda.org/pytorch/linux-64/pytorch-2.0.0-py3.11_cuda11.8_cudnn8.7.0_0.tar.bz2#" + "c" * 32,
]
METADATA_FIELDS = ["Metadata-Version", "Name", "Version", "Requires-Dist", "License", "License-Expression",
                   "Classifier", "Requires-Python", "Provides-Extra", "Summary", "Home-page", "Dynamic"]

# --- the run --------------------------------------------------------------------------------------


class FuzzTimeout(BaseException):
    """Raised by the timer: a BaseException so that no ``except Exception`` in the gate swallows it."""


@dataclass
class Outcome:
    code: int | None
    error: str = ""
    crash: BaseException | None = None
    trace: str = ""
    signature: str = ""


def _gate_frame(error: BaseException) -> str:
    """``gate/path.py:function:line`` of the innermost traceback frame inside the gate package; for a
    RecursionError, the gate function that recurs most (the innermost frame depends on the depth)."""
    frames = [frame for frame in traceback.extract_tb(error.__traceback__)
              if (REPO / "gate") in Path(frame.filename).parents]
    if not frames:
        return "(outside gate)"
    if isinstance(error, RecursionError):
        counts = Counter(f"{Path(f.filename).relative_to(REPO)}:{f.name}" for f in frames)
        return counts.most_common(1)[0][0] + " (recursing)"
    frame = frames[-1]
    return f"{Path(frame.filename).relative_to(REPO)}:{frame.name}:{frame.lineno}"


def run_cli(args: list[str]) -> Outcome:
    """One CLI invocation in-process, exactly as :func:`gate.cli.main` runs it, minus the catch-all."""
    import click

    from gate.cli import _exit_code, cli
    from gate.errors import GateError

    def on_alarm(signum: int, frame: object) -> None:
        raise FuzzTimeout(f"over {RUN_TIMEOUT} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, RUN_TIMEOUT)
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.main(args=args, prog_name="gate", standalone_mode=False)
        return Outcome(code=code if isinstance(code, int) else 0)
    except click.exceptions.Exit as exit_:
        return Outcome(code=exit_.exit_code)
    except click.ClickException as error:
        return Outcome(code=error.exit_code, error=error.format_message())
    except GateError as error:
        return Outcome(code=_exit_code(error), error=error.diagnostic())
    except (Exception, FuzzTimeout, RecursionError, MemoryError) as error:  # every bug counts
        return Outcome(code=None, crash=error, trace=traceback.format_exc(),
                       signature=f"{type(error).__name__} at {_gate_frame(error)}")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# --- targets --------------------------------------------------------------------------------------


@dataclass
class Case:
    """One mutated input: a folder whose files the commands read, and the commands."""

    folder: Path
    primary: list[Path]  # the mutated files (what minimisation shrinks)
    commands: Callable[[Path], list[list[str]]]  # the gate arguments for the folder, one list per command
    allowed: frozenset[int]
    description: str = ""
    chained: bool = False  # a command runs only when the one before it exited 0 (db import, then check)


def run_case(case: Case, folder: Path | None = None) -> Outcome:
    """The first run that crashed or exited with a code the case does not allow, else the last."""
    outcome = Outcome(code=0)
    for args in case.commands(folder or case.folder):
        outcome = run_cli(args)
        if outcome.crash is not None or outcome.code not in case.allowed:
            return outcome
        if case.chained and outcome.code != 0:
            return outcome
    return outcome


@dataclass
class Context:
    work: Path
    db: Path
    policies: dict[str, Path]
    small_lockfile: Path  # a valid lockfile for the baseline and policy targets
    seeds: dict[str, list[Path]] = field(default_factory=dict)


LOCK_TARGETS: dict[str, str] = {
    "requirements": "lines", "pylock": "toml", "uv.lock": "toml", "poetry.lock": "toml", "pdm.lock": "toml",
    "Pipfile.lock": "json", "conda-lock": "yaml", "conda-explicit": "lines", "conda-environment": "yaml",
    "cyclonedx": "json",
}
CORPUS_FOLDERS = {"requirements": ["requirements-hashed", "requirements-pinned"], "pylock": ["pylock.toml"],
                  "uv.lock": ["uv.lock"], "poetry.lock": ["poetry.lock"], "pdm.lock": ["pdm.lock"],
                  "Pipfile.lock": ["Pipfile.lock"], "conda-lock": ["conda-lock"], "conda-explicit": ["conda-explicit"],
                  "conda-environment": ["conda-environment"], "cyclonedx": []}
ASSET_FOLDERS = {"requirements": ["requirements"], "pylock": ["pylock"], "uv.lock": ["uv.lock", "uv-project"],
                 "poetry.lock": ["poetry.lock"], "pdm.lock": ["pdm.lock"], "Pipfile.lock": ["Pipfile.lock"],
                 "conda-lock": ["conda-lock"], "conda-explicit": ["conda-explicit"],
                 "conda-environment": ["conda-environment"], "cyclonedx": ["cyclonedx"]}
ASSET_FILES = {"requirements": "requirements.txt", "uv-project": "uv.lock"}
TARGETS = (*LOCK_TARGETS, "venv", "baseline", "policy", "models", "advisories", "record")
WEIGHTS = {"venv": 3, "models": 2, "policy": 2, "baseline": 1, "advisories": 2, "record": 2}
TARGETS_HINT = ", ".join(TARGETS)


def _check_args(ctx: Context, policy: str, rng: random.Random, out: Path) -> list[str]:
    args = ["check", "--policy", str(ctx.policies[policy]), "--db", str(ctx.db), "--out", str(out), "--now", NOW,
            "--format", rng.choice(["text", "text", "json", "markdown", "sarif", "gitlab"])]
    if rng.random() < 0.3:
        args += ["--target", rng.choice(["python=3.11,platform=linux_x86_64", "python=3.8", "platform=win_amd64",
                                         "python=3.13,platform=macosx_arm64", "python=3.11"])]
    if rng.random() < 0.2:
        args += ["--groups", rng.choice(["dev", "optional:extra", "docs,dev", "test"])]
    return args


def lockfile_case(ctx: Context, target: str, rng: random.Random) -> Case:
    seed = rng.choice(ctx.seeds[target])
    folder = ctx.work / "case"
    if ASSETS in seed.parents:  # copy the seed's folder: includes (-r base.txt) and pyproject.toml beside
        shutil.copytree(seed.parent, folder)
    else:
        folder.mkdir()
    path = folder / seed.name
    data = seed.read_bytes()
    fmt = LOCK_TARGETS[target]
    if rng.random() < 0.1:
        data = mutate_bytes(data, rng)
    elif fmt == "lines":
        text = data.decode("utf-8", "replace")
        snippets = REQUIREMENT_SNIPPETS if target == "requirements" else CONDA_EXPLICIT_SNIPPETS
        data = mutate_lines(text, rng, snippets).encode("utf-8", "surrogatepass")
        if rng.random() < 0.2:
            data = mutate_bytes(data, rng)
    else:
        data = _mutate_document(data, fmt, rng)
    path.write_bytes(data)
    policy = "production" if rng.random() < 0.5 else "sandbox"
    out = ctx.work / "out"
    extra = _check_args(ctx, policy, rng, out)
    name = seed.name
    return Case(folder=folder, primary=[path], commands=lambda f: [[*extra, "--lockfile", str(f / name)]],
                allowed=frozenset({0, 1, 3}), description=f"{target} from {seed}")


_PARSED: dict[bytes, Any] = {}


def _parse(data: bytes, fmt: str) -> Any:
    """The seed's document, parsed once per seed (a 650 kB conda-lock.yml takes a second)."""
    key = fmt.encode() + hashlib.sha256(data).digest()
    if key not in _PARSED:
        text = data.decode("utf-8")
        if fmt == "toml":
            _PARSED[key] = tomllib.loads(text)
        elif fmt == "json":
            _PARSED[key] = json.loads(text)
        else:
            _PARSED[key] = yaml.load(text, Loader=yaml.CSafeLoader)
    return _PARSED[key]


def copy_sampled(value: Any, rng: random.Random, limit: int | None) -> Any:
    """A deep copy of a parsed document; lists longer than ``limit`` become a sample of ``limit``
    entries, order kept (a 1,500-package lock is mostly more of the same)."""
    if isinstance(value, dict):
        return {k: copy_sampled(v, rng, limit) for k, v in value.items()}
    if isinstance(value, list):
        if limit is not None and len(value) > limit:
            value = [value[i] for i in sorted(rng.sample(range(len(value)), limit))]
        return [copy_sampled(v, rng, limit) for v in value]
    return value


def _mutate_document(data: bytes, fmt: str, rng: random.Random) -> bytes:
    try:
        parsed = _parse(data, fmt)
    except (ValueError, UnicodeDecodeError, yaml.YAMLError):  # a seed the gate rejects too: bytes only
        return mutate_bytes(data, rng)
    document = copy_sampled(parsed, rng, MAX_TREE_LIST if rng.random() < 0.85 else None)
    document = mutate_tree(document, rng, fmt)
    if fmt == "toml":
        out = dump_toml(document, rng)
    elif fmt == "json":
        out = dump_json(document, indent=rng.choice([None, 1, 2, 4]))
    else:
        out = dump_yaml(document, rng)
    encoded = out.encode("utf-8", "surrogatepass")
    return mutate_bytes(encoded, rng) if rng.random() < 0.15 else encoded


def venv_case(ctx: Context, rng: random.Random) -> Case:
    seed = rng.choice(ctx.seeds["venv"])
    folder = ctx.work / "case"
    venv = folder / "venv"
    shutil.copytree(seed, venv, symlinks=True)
    (venv / "lib" / "python3.11" / "site-packages" / "gate-canary.pth").unlink(missing_ok=True)
    site = venv / "lib" / "python3.11" / "site-packages"
    dists = sorted(p for p in site.iterdir() if p.name.endswith(".dist-info"))
    if len(dists) > 6:
        for surplus in rng.sample(dists, len(dists) - 6):
            shutil.rmtree(surplus)
        dists = sorted(p for p in site.iterdir() if p.name.endswith(".dist-info"))
    touched: list[Path] = []
    for _ in range(rng.choice([1, 1, 2, 3])):
        touched.extend(_mutate_venv(venv, site, dists, rng))
    policy = "production" if rng.random() < 0.5 else "sandbox"
    extra = _check_args(ctx, policy, rng, ctx.work / "out")
    return Case(folder=folder, primary=[p for p in touched if p.exists() or p.is_symlink()],
                commands=lambda f: [[*extra, "--env", str(f / "venv")]], allowed=frozenset({0, 1, 3}),
                description=f"venv from {seed}")


def _put(path: Path, data: bytes) -> None:
    """Write a file where an earlier mutation may have left a FIFO (opening it would block the
    harness, outside any run's timer), a link or a folder."""
    if path.is_symlink() or (path.exists() and not path.is_file()):
        _remove(path)
    path.write_bytes(data)


def _mutate_venv(venv: Path, site: Path, dists: list[Path], rng: random.Random) -> list[Path]:
    dist = rng.choice(dists)
    choice = rng.randrange(14)
    metadata = dist / "METADATA"
    if choice <= 3 and metadata.is_file():
        lines = metadata.read_text("utf-8", "replace").split("\n")
        header_end = lines.index("") if "" in lines else len(lines)
        for _ in range(rng.choice([1, 2, 3])):
            op = rng.randrange(5)
            field_name = rng.choice(METADATA_FIELDS)
            value = rng.choice([*HOSTILE_STRINGS, *WEIRD_VERSIONS, *MARKERS, "requests (>=2.0)", "numpy; extra == 'x'",
                                "MIT",
                                                  "License :: OSI Approved :: MIT License", "License :: {S}"])
            value = value.replace("{S}", rng.choice(HOSTILE_STRINGS))
            index = rng.randrange(header_end + 1)
            if op == 0:
                lines.insert(index, f"{field_name}: {value}")
                header_end += 1
            elif op == 1:
                matching = [i for i in range(header_end) if lines[i].lower().startswith(field_name.lower() + ":")]
                if matching:
                    lines[rng.choice(matching)] = f"{field_name}: {value}"
            elif op == 2 and header_end:
                lines.pop(rng.randrange(header_end))
                header_end -= 1
            elif op == 3:
                lines.insert(index, rng.choice([" continued", "\tcontinued", "no colon here", "From x", ":", "",
                                                "X-Thing: " + value]))
                header_end += 1
            else:
                lines.insert(index, f"{field_name}:{value}")
                header_end += 1
        data = "\n".join(lines).encode("utf-8", "surrogatepass")
        _put(metadata, mutate_bytes(data, rng) if rng.random() < 0.2 else data)
        return [metadata]
    if choice == 4:
        direct = dist / "direct_url.json"
        document: Any = rng.choice([
            {"url": "https://files.example/x-1.0-py3-none-any.whl", "archive_info": {"hashes": {"sha256": "a" * 64}}},
            {"url": "https://files.example/x-1.0.tar.gz", "archive_info": {"hash": "sha256=" + "b" * 64}},
            {"url": "file:///src/x", "dir_info": {"editable": True}},
            {"url": "git+https://github.com/x/y.git", "vcs_info": {"vcs": "git", "commit_id": "c" * 40,
                                                                   "requested_revision": "main"}},
        ])
        document = mutate_tree(document, rng, "json") if rng.random() < 0.8 else document
        _put(direct, dump_json(document, indent=rng.choice([None, 2])).encode("utf-8", "surrogatepass"))
        return [direct]
    if choice == 5:
        installer = dist / "INSTALLER"
        _put(installer, rng.choice([b"pip\n", b"uv", b"conda\n", b"", b"\n", b"\x00", b"pip\r\n", b"\xff\n",
                                          rng.choice(HOSTILE_STRINGS).encode("utf-8", "surrogatepass")]))
        return [installer]
    if choice == 6:
        wheel = dist / "WHEEL"
        tag = rng.choice(["cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64", "py3-none-any", "-", "",
                          "cp311-cp311-win_amd64", "cp311-cp311-macosx_11_0_arm64.{S}", "{S}", "a-b-c-d-e"])
        _put(wheel, f"Wheel-Version: 1.0\nTag: {tag.replace('{S}', rng.choice(HOSTILE_STRINGS))}\n".encode(
            "utf-8", "surrogatepass"))
        return [wheel]
    if choice == 7:
        record = dist / "RECORD"
        lines = []
        for _ in range(rng.choice([1, 3, 8])):
            path = rng.choice([f"{dist.name}/METADATA", "pkg/__init__.py", "../../../etc/passwd", "/etc/passwd", "",
                               "pkg", '"quoted,path"', "a\x00b", "../" * 50 + "x", f"{dist.name}", "./x", "x" * 5000,
                               rng.choice(HOSTILE_STRINGS)])
            digest = rng.choice(["", "sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU", "sha256=!!!", "md5=x",
                                 "sha256=", "=", "sha999=abc", rng.choice(HOSTILE_STRINGS)])
            size = rng.choice(["", "0", "-1", "abc", "99999999999999999999", "1" * 5000, "1.5", " 3"])
            lines.append(",".join([path, digest, size][: rng.choice([1, 2, 3, 3, 3])]) + rng.choice(["", ",extra"]))
        if rng.random() < 0.5:
            (site / "pkg").mkdir(exist_ok=True)
            (site / "pkg" / "__init__.py").write_bytes(b"")
        _put(record, ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass"))
        return [record]
    if choice == 8:
        config = venv / "pyvenv.cfg"
        text = config.read_text("utf-8") + rng.choice([
            "version = {S}\n", "version_info = {S}\n", "include-system-site-packages = true\n", "home = {S}\n",
            "version = 3.12.0\n", "= x\n", "{S}\n", "version_info = 3.11.4.final.0\n"])
        _put(config, text.replace("{S}", rng.choice(HOSTILE_STRINGS)).encode("utf-8", "surrogatepass"))
        return [config]
    if choice == 9:
        egg = site / rng.choice(["thing-1.0-py3.11.egg-info", "Thing.egg-info", "odd name-{S}.egg-info"]).replace(
            "{S}", re.sub(r"[/\x00]", "", rng.choice(HOSTILE_STRINGS)[:40]))
        if rng.random() < 0.5:
            egg.mkdir(exist_ok=True)
            _put(egg / "PKG-INFO", metadata.read_bytes() if metadata.is_file() else b"Name: x\nVersion: 1\n")
            requires = rng.choice(["numpy>=1\n[extra]\nrich\n[:python_version < '3.8']\ntyping\n", "[{S}]\nx\n",
                                   "{S}\n", "[\n", "[a:b:c]\nx @ https://x\n"])
            requires = requires.replace("{S}", rng.choice(HOSTILE_STRINGS))
            _put(egg / "requires.txt", requires.encode("utf-8", "surrogatepass"))
            return [egg / "PKG-INFO", egg / "requires.txt"]
        _put(egg, metadata.read_bytes() if metadata.is_file() else b"Name: x\n")
        return [egg]
    if choice == 10:
        link = site / rng.choice(["thing.egg-link", "Thing.egg-link", "x.egg-link"])
        project = venv / "project"
        project.mkdir(exist_ok=True)
        (project / "thing.egg-info").mkdir(exist_ok=True)
        (project / "thing.egg-info" / "PKG-INFO").write_text("Name: thing\nVersion: 0.1\n")
        target = rng.choice(["../../../project", str(project), "", "\n", "/nonexistent", "..", ".", "{S}", "/dev/null"])
        _put(link, (target.replace("{S}", rng.choice(HOSTILE_STRINGS)) + "\n.\n").encode("utf-8", "surrogatepass"))
        return [link]
    if choice == 11:
        victim = rng.choice([metadata, dist / "INSTALLER", dist / "WHEEL", dist / "RECORD", dist / "direct_url.json"])
        if victim.is_dir():
            return []
        victim.unlink(missing_ok=True)
        how = rng.randrange(4)
        if how == 0:
            victim.mkdir()
        elif how == 1:
            victim.symlink_to(victim.name)  # a loop
        elif how == 2:
            victim.symlink_to("/nonexistent/target")
        else:
            os.mkfifo(victim)
        return [victim]
    if choice == 12:
        name = rng.choice(["weird-{S}.dist-info", "x.dist-info", "UPPER-1.0.DIST-INFO", ".dist-info", "-.dist-info"])
        odd = site / name.replace("{S}", re.sub(r"[/\x00]", "", rng.choice(HOSTILE_STRINGS)[:60]))
        if rng.random() < 0.3:
            _put(odd, b"")
        else:
            odd.mkdir(exist_ok=True)
            _put(odd / "METADATA", metadata.read_bytes() if metadata.is_file() else b"")
        return [odd]
    (venv / "lib" / rng.choice(["python3.12", "python3.11t", "pypy3.10", "python3"])).mkdir(exist_ok=True)
    if rng.random() < 0.5:
        (venv / "lib" / "python3.12" / "site-packages").mkdir(parents=True, exist_ok=True)
    if rng.random() < 0.3:
        (venv / "lib64").symlink_to("lib")
    return [venv / "pyvenv.cfg"]


def baseline_case(ctx: Context, rng: random.Random) -> Case:
    seed = rng.choice(ctx.seeds["baseline"])
    folder = ctx.work / "case"
    folder.mkdir()
    path = folder / "result.json"
    data = seed.read_bytes()
    path.write_bytes(mutate_bytes(data, rng) if rng.random() < 0.1 else _mutate_document(data, "json", rng))
    lockfile = seed.parent / "input"
    inputs = [p for p in lockfile.iterdir()] if lockfile.is_dir() else []
    extra = _check_args(ctx, "production", rng, ctx.work / "out")
    flag = "--env" if inputs and inputs[0].is_dir() else "--lockfile"
    given = str(inputs[0]) if inputs else str(ctx.small_lockfile)
    return Case(folder=folder, primary=[path],
                commands=lambda f: [[*extra, flag, given, "--baseline", str(f / "result.json")]],
                allowed=frozenset({0, 1, 3}), description=f"baseline from {seed}")


POLICY_VALUES = ["critical", "high", "medium", "low", "block", "warn", "allow", "unknown", "MIT", "GPL-3.0-only",
                 "Copyleft", "Permissive", "<2.6", ">=1,<2", "not a specifier", "==1.*", "2026-01-01", "2020-02-30",
                 "sandbox", "staging", "production", "policy.yml", "https://pypi.org/simple", "vcs", "url", "path",
                 "editable", "unknown", "added", "removed", "changed", "modified_files", "safetensors", "pickle",
                 "torch", "GHSA-xxxx-xxxx-xxxx", "CVE-2024-35195", "linux_x86_64", "3.11", "numpy", "*"]


def policy_case(ctx: Context, rng: random.Random) -> Case:
    seed = rng.choice(ctx.seeds["policy"])
    folder = ctx.work / "case"
    folder.mkdir()
    for shipped in (REPO / "policies").glob("*.yml"):
        shutil.copyfile(shipped, folder / shipped.name)
    path = folder / "policy.yml"
    data = seed.read_bytes()
    if rng.random() < 0.1:
        path.write_bytes(mutate_bytes(data, rng))
    else:
        document = copy_sampled(_parse(data, "yaml"), rng, None)
        strings = POLICY_VALUES + _strings(document)
        for _ in range(rng.choice([1, 2, 3])):
            slots = _slots(document)
            if slots and rng.random() < 0.4:
                container, key = rng.choice(slots)
                other = rng.choice([[rng.choice(strings)], 0, -1, 10**6, None, True])
                container[key] = rng.choice(strings) if rng.random() < 0.7 else other
            else:
                document = mutate_tree(document, rng, "yaml")
        text = dump_yaml(document, rng).encode("utf-8", "surrogatepass")
        path.write_bytes(mutate_bytes(text, rng) if rng.random() < 0.1 else text)
    out = ctx.work / "out"
    extra = ["check", "--lockfile", str(ctx.small_lockfile), "--db", str(ctx.db), "--out", str(out), "--now", NOW,
             "--offline", "--format", rng.choice(["text", "json", "sarif", "gitlab", "markdown"])]
    return Case(folder=folder, primary=[path], commands=lambda f: [[*extra, "--policy", str(f / "policy.yml")]],
                allowed=frozenset({0, 1, 3, 4, 5, 6}), description=f"policy from {seed}")


def advisories_case(ctx: Context, rng: random.Random) -> Case:
    """OSV records, some mutated, imported with ``gate db import``; then a site-packages folder of
    the packages they name, at versions taken from their ranges (or hostile ones), is checked
    against that database: matching with strange versions on both sides."""
    folder = ctx.work / "case"
    records = folder / "advisories"
    records.mkdir(parents=True)
    chosen = rng.sample(ctx.seeds["advisories"], rng.choice([1, 2, 4]))
    documents: list[Any] = []
    touched = []
    for index, seed in enumerate(chosen):
        fmt = "yaml" if seed.suffix in (".yaml", ".yml") else "json"
        path = records / f"{index}-{seed.name}"
        data = seed.read_bytes()
        try:
            document = copy_sampled(_parse(data, fmt), rng, None)
        except (ValueError, yaml.YAMLError):
            document = None
        if document is not None and (index == 0 or rng.random() < 0.5):
            document = mutate_tree(document, rng, fmt)
            text = dump_json(document) if fmt == "json" else dump_yaml(document, rng)
            data = text.encode("utf-8", "surrogatepass")
            if rng.random() < 0.1:
                data = mutate_bytes(data, rng)
            touched.append(path)
        path.write_bytes(data)
        documents.append(document)
    site = folder / "site-packages"
    site.mkdir()
    names = [value for document in documents for value in _named_packages(document)]
    versions = [text for document in documents for text in _version_strings(document)] or ["1.0"]
    for index, name in enumerate(names[:8] or ["requests"]):
        version = rng.choice(versions)
        if rng.random() < 0.3:
            version = rng.choice(HOSTILE_STRINGS[:60]) if rng.random() < 0.5 else _tweak_string(version, rng)
        dist = site / f"pkg{index}-0.dist-info"
        dist.mkdir()
        text = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".replace("\r", "")
        (dist / "METADATA").write_text(text, "utf-8", "surrogatepass")
    policy = rng.choice(["production-old-data", "sandbox-old-data"])
    out = ctx.work / "out"
    return Case(folder=folder, primary=touched,
                commands=lambda f: [["db", "import", str(f / "advisories"), "--db", str(f / "db.sqlite3"),
                                     "--now", NOW],
                                    ["check", "--env", str(f / "site-packages"), "--db", str(f / "db.sqlite3"),
                                     "--policy", str(ctx.policies[policy]), "--out", str(out), "--now", NOW]],
                allowed=frozenset({0, 1, 3, 4}), description=f"advisories from {', '.join(map(str, chosen))}",
                chained=True)


def _named_packages(document: Any) -> list[str]:
    found = []
    affected = document.get("affected") if isinstance(document, dict) else None
    for entry in affected if isinstance(affected, list) else []:
        package = entry.get("package") if isinstance(entry, dict) else None
        name = package.get("name") if isinstance(package, dict) else None
        if isinstance(name, str) and "\n" not in name:
            found.append(name)
    return found


def _version_strings(document: Any) -> list[str]:
    found = []
    for container, key in _slots(document, 2000):
        value = container[key]
        bound = key in ("introduced", "fixed", "last_affected", "limit") or isinstance(container, list)
        if bound and isinstance(value, str) and "\n" not in value and len(value) < 200:
            found.append(value)
    return found


def record_case(ctx: Context, rng: random.Random) -> Case:
    """A record.dsse.json whose statement is mutated and (mostly) signed again with the fuzz key, so
    that verification passes and what reads the statement sees the hostile data: ``gate verify``,
    ``gate replay`` (which also reads unverified records) and ``gate drift --baseline``."""
    import base64

    from gate.record.dsse import envelope
    from gate.record.keys import load_signing_key
    from gate.record.statement import canonical_bytes

    seed = rng.choice(ctx.seeds["record"])
    folder = ctx.work / "case"
    folder.mkdir()
    path = folder / "record.dsse.json"
    data = seed.read_bytes()
    outer = json.loads(data)
    if rng.random() < 0.15:
        path.write_bytes(_mutate_document(data, "json", rng))
    else:
        statement = mutate_tree(json.loads(base64.b64decode(outer["payload"])), rng, "json")
        payload = b""
        if rng.random() < 0.9:
            with contextlib.suppress(ValueError, TypeError, OverflowError, RecursionError):  # else plain JSON
                payload = canonical_bytes(_plain(statement))
        if not payload:
            payload = dump_json(statement, indent=None).encode("utf-8", "surrogatepass")
        key = load_signing_key(os.environ) if rng.random() < 0.85 else None
        document = envelope(payload, key)
        if key is None:
            document["signatures"] = outer["signatures"]
        path.write_text(json.dumps(document), "utf-8")
    pub = ctx.work / "seeds" / "keys" / "gate-signing-key.pub.pem"
    venv = rng.choice(ctx.seeds["venv"])
    return Case(folder=folder, primary=[path],
                commands=lambda f: [["verify", str(f / "record.dsse.json"), "--key", str(pub)],
                                    ["replay", str(f / "record.dsse.json"), "--db", str(ctx.db)],
                                    ["drift", "--env", str(venv), "--baseline", str(f / "record.dsse.json"),
                                     "--now", NOW]],
                allowed=frozenset({0, 1, 3, 4, 5}), description=f"record from {seed}")


def models_case(ctx: Context, rng: random.Random) -> Case:
    folder = ctx.work / "case"
    models = folder / "models"
    models.mkdir(parents=True)
    touched = []
    for _ in range(rng.choice([1, 1, 2])):
        seed = rng.choice(ctx.seeds["models"])
        path = models / seed.name
        data = seed.read_bytes()
        choice = rng.randrange(5)
        if choice == 0 and data[:2] == b"PK":
            data = _mutate_zip(data, rng, ctx)
        elif choice == 1 and seed.suffix == ".safetensors":
            data = _mutate_safetensors(data, rng)
        elif choice == 2:
            other = rng.choice(ctx.seeds["models"]).read_bytes()
            cut = rng.randrange(len(data) + 1)
            data = data[:cut] + other[rng.randrange(len(other) + 1):]
        else:
            data = mutate_bytes(data, rng)
        path.write_bytes(data)
        touched.append(path)
    if rng.random() < 0.3:
        config: Any = {"architectures": ["BertModel"], "model_type": "bert"}
        (models / "config.json").write_text(dump_json(mutate_tree(config, rng, "json")), "utf-8", "surrogatepass")
        touched.append(models / "config.json")
    if rng.random() < 0.3:
        front: Any = {"license": "apache-2.0", "pipeline_tag": "text-classification", "tags": ["x"]}
        body = dump_yaml(mutate_tree(front, rng, "yaml"), rng)
        (models / "README.md").write_text("---\n" + body + "---\n# Model\n", "utf-8", "surrogatepass")
        touched.append(models / "README.md")
    policy = rng.choice(["sandbox", "production"])
    extra = _check_args(ctx, policy, rng, ctx.work / "out")
    return Case(folder=folder, primary=touched, commands=lambda f: [[*extra, "--models", str(f / "models")]],
                allowed=frozenset({0, 1, 3}), description="models")


def _mutate_zip(data: bytes, rng: random.Random, ctx: Context) -> bytes:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = [(info.filename, archive.read(info)) for info in archive.infolist()]
    except (zipfile.BadZipFile, OSError, EOFError):
        return mutate_bytes(data, rng)
    for _ in range(rng.choice([1, 2])):
        i = rng.randrange(len(members)) if members else 0
        choice = rng.randrange(6)
        if choice == 0 and members:
            members[i] = (members[i][0], mutate_bytes(members[i][1], rng))
        elif choice == 1 and members:
            name = rng.choice(["../evil.pkl", "/abs/data.pkl", "a/../../x", "archive/data.pkl", "x\x00y", "",
                               "archive/" + "d/" * 300 + "data.pkl", "archive\\data.pkl", rng.choice(HOSTILE_STRINGS)])
            members[i] = (name, members[i][1])
        elif choice == 2 and members:
            members.append(members[i])
        elif choice == 3:
            members.append(("archive/data.pkl", rng.choice(ctx.seeds["models"]).read_bytes()[:100_000]))
        elif choice == 4 and members:
            members.pop(i)
        else:
            inner = io.BytesIO()
            with zipfile.ZipFile(inner, "w") as nested:
                for name, content in members[:3]:
                    nested.writestr(name or "x", content)
            members.append(("nested.pt", inner.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=rng.choice([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])) as archive:
        for name, content in members:
            info = zipfile.ZipInfo(name or "x")
            with contextlib.suppress(ValueError):
                archive.writestr(info, content)
    return out.getvalue()


def _mutate_safetensors(data: bytes, rng: random.Random) -> bytes:
    (length,) = struct.unpack("<Q", data[:8])
    try:
        header = json.loads(data[8:8 + length])
    except ValueError:
        return mutate_bytes(data, rng)
    text = dump_json(mutate_tree(header, rng, "json"), indent=None).encode("utf-8", "surrogatepass")
    size = len(text) if rng.random() < 0.8 else rng.choice([0, 1, len(text) + 1, 2**63, 2**64 - 1, 100_000_001])
    return struct.pack("<Q", size) + text + data[8 + length:]


# --- seeds and setup ------------------------------------------------------------------------------


def collect_seeds(ctx: Context) -> None:
    for target in LOCK_TARGETS:
        found = []
        for folder in ASSET_FOLDERS[target]:
            directory = ASSETS / "lockfiles" / folder
            wanted = ASSET_FILES.get(folder)
            found.extend(sorted(p for p in directory.iterdir() if p.is_file() and (wanted is None or p.name == wanted)
                                and p.suffix != ".md" and p.name != "pyproject.toml"))
        for folder in CORPUS_FOLDERS[target]:
            if (CORPUS / folder).is_dir():
                found.extend(sorted(p for p in (CORPUS / folder).iterdir() if p.is_file()))
        if target == "requirements":
            found = [p for p in found if p.name not in ("base.txt", "constraints.txt")]
        ctx.seeds[target] = found
    ctx.seeds["cyclonedx"] += sorted((ctx.work / "seeds" / "sboms").glob("*.json"))
    ctx.seeds["venv"] = [ASSETS / "venvs" / "old-ml", ASSETS / "venvs" / "current"]
    ctx.seeds["baseline"] = sorted((ctx.work / "seeds" / "results").glob("*/result.json"))
    ctx.seeds["policy"] = [*sorted((REPO / "policies").glob("*.yml")), ASSETS / "example" / "policy.yml",
                           *sorted((ASSETS / "policies").glob("*.yml"))]
    ctx.seeds["models"] = sorted((ctx.work / "seeds" / "models").iterdir())
    ctx.seeds["record"] = sorted((ctx.work / "seeds" / "records").glob("*.dsse.json"))
    ctx.seeds["advisories"] = [*sorted((ASSETS / "example" / "advisories").glob("*.json")),
                               *sorted((ASSETS / "osv").rglob("*.json")), *sorted((ASSETS / "osv").rglob("*.yaml")),
                               *sorted((ctx.work / "seeds" / "osv").glob("*.json"))]


MODEL_SEED_SCRIPT = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from tests.models import helpers as h
out = Path(sys.argv[2]); out.mkdir(parents=True, exist_ok=True)
h.torch_state_dict(out / "state.pt"); h.torch_legacy(out / "legacy.pth")
h.sklearn_joblib(out / "model.joblib"); h.sklearn_joblib(out / "compressed.joblib", compress=3)
h.safetensors_file(out / "model.safetensors")
(out / "model.onnx").write_bytes(h.onnx_bytes()); (out / "model.gguf").write_bytes(h.gguf_bytes())
h.numpy_object_array(out / "array.npy", "true")
(out / "evil.pkl").write_bytes(h.os_system_protocol4("true"))
(out / "memo.pkl").write_bytes(h.stack_global_via_memo("os", "system", "true"))
h.write_zip(out / "archive.pt", {"archive/data.pkl": h.os_system_protocol0("true"), "archive/version": b"3\\n"})
"""


def prepare(work: Path, db: Path | None) -> Context:
    """The advisory database, the signing key, the two policies and the generated seeds (kept in
    ``work/seeds`` between runs)."""

    work.mkdir(parents=True, exist_ok=True)
    seeds = work / "seeds"
    if db is None:
        db = work / "advisories.sqlite3"
        if not db.exists():
            source = SNAPSHOT if SNAPSHOT.is_file() else ASSETS / "example" / "advisories"
            print(f"compiling {source} into {db}", flush=True)
            _quiet(["db", "import", str(source), "--db", str(db), "--now", NOW])
    keys = seeds / "keys"
    if not (keys / "gate-signing-key.pem").exists():
        _quiet(["keygen", "--out", str(keys)])
    os.environ["GATE_SIGNING_KEY"] = str(keys / "gate-signing-key.pem")
    for variable in ("GITHUB_ACTIONS", "GITLAB_CI", "GITHUB_WORKSPACE", "CI_PROJECT_DIR"):
        os.environ.pop(variable, None)
    policies = seeds / "policies"
    policies.mkdir(parents=True, exist_ok=True)
    production = policies / "production-offline.yml"
    production.write_text(f"# production without the network section: the fuzz runs offline\n"
                          f"extends: {REPO / 'policies' / 'production.yml'}\nregistry: null\n")
    old_data = "advisory_db:\n  max_age_days: 36500  # the test advisories are years old\n"
    (policies / "production-old-data.yml").write_text(f"extends: production-offline.yml\n{old_data}")
    (policies / "sandbox-old-data.yml").write_text(f"extends: {REPO / 'policies' / 'sandbox.yml'}\n{old_data}")
    ctx = Context(work=work, db=db, policies={"production": production, "sandbox": REPO / "policies" / "sandbox.yml",
                                              "production-old-data": policies / "production-old-data.yml",
                                              "sandbox-old-data": policies / "sandbox-old-data.yml"},
                  small_lockfile=ASSETS / "lockfiles" / "uv.lock" / "uv.lock")
    if not (seeds / "models").is_dir():
        print("making model seeds (tests/models/helpers.py, in a subprocess: torch stays out of this one)", flush=True)
        subprocess.run([sys.executable, "-c", MODEL_SEED_SCRIPT, str(REPO), str(seeds / "models")], check=True)
    if not (seeds / "osv").is_dir() and SNAPSHOT.is_file():
        _osv_seeds(seeds / "osv")
    collect_seeds(ctx)
    if not (seeds / "records").is_dir():
        print("writing result.json, SBOM and record seeds from the unmutated seeds", flush=True)
        for stale in ("results", "sboms"):
            shutil.rmtree(seeds / stale, ignore_errors=True)
        _result_seeds(ctx)
        collect_seeds(ctx)
    return ctx


def _osv_seeds(folder: Path, count: int = 300) -> None:
    """A fixed sample of real OSV records from the snapshot (evenly spaced by name)."""
    folder.mkdir(parents=True)
    with zipfile.ZipFile(SNAPSHOT) as archive:
        names = sorted(n for n in archive.namelist() if n.endswith(".json"))
        for name in names[:: max(1, len(names) // count)][:count]:
            (folder / Path(name).name).write_bytes(archive.read(name))


def _quiet(args: list[str]) -> None:
    outcome = run_cli(args)
    if outcome.code != 0:
        raise SystemExit(f"gate {' '.join(args)}: exit {outcome.code} {outcome.error}{outcome.trace}")


def _result_seeds(ctx: Context) -> None:
    inputs = [(p, "--lockfile") for target in LOCK_TARGETS for p in ctx.seeds[target][:2]]
    inputs += [(p, "--env") for p in ctx.seeds["venv"]]
    for index, (path, flag) in enumerate(inputs):
        folder = ctx.work / "seeds" / "results" / f"{index:02d}"
        out = folder / "out"
        outcome = run_cli(["check", flag, str(path), "--policy", str(ctx.policies["production-old-data"]),
                           "--db", str(ctx.db),
                           "--out", str(out), "--now", NOW])
        if outcome.code not in (0, 1):
            print(f"  seed {path}: exit {outcome.code} {outcome.error}{outcome.signature}")
            shutil.rmtree(folder, ignore_errors=True)
            continue
        shutil.move(out / "result.json", folder / "result.json")
        (ctx.work / "seeds" / "records").mkdir(parents=True, exist_ok=True)
        shutil.move(out / "record.dsse.json", ctx.work / "seeds" / "records" / f"{index:02d}.dsse.json")
        (ctx.work / "seeds" / "sboms").mkdir(parents=True, exist_ok=True)
        shutil.move(out / "sbom.cdx.json", ctx.work / "seeds" / "sboms" / f"{index:02d}.cdx.json")
        shutil.rmtree(out)
        (folder / "input").mkdir()
        os.symlink(path, folder / "input" / path.name)


# --- minimisation ---------------------------------------------------------------------------------


def _reproduces(case: Case, signature: str) -> bool:
    shutil.rmtree(case.folder.parent / "out", ignore_errors=True)
    return run_case(case).signature == signature


def minimise(case: Case, signature: str, *, seconds: float) -> None:
    """Shrink the case while the same crash persists: folder entries, then each mutated file by
    JSON structure, lines and bytes. Bounded by ``seconds``."""
    deadline = time.monotonic() + seconds

    def still(write: Callable[[], object], undo: Callable[[], object]) -> bool:
        if time.monotonic() > deadline:
            return False
        write()
        if _reproduces(case, signature):
            return True
        undo()
        return False

    # entries the crash does not need (siblings copied with the seed, other distributions)
    entries = [Path(top) / name for top, dirs, files in os.walk(case.folder) for name in (*dirs, *files)]
    for entry in sorted(entries, key=lambda p: (-len(p.parts), str(p))):
        if any(entry == p or entry in p.parents for p in case.primary) or not (entry.exists() or entry.is_symlink()):
            continue
        backup = case.folder.parent / "backup"
        _remove(backup)

        def remove(entry: Path = entry, backup: Path = backup) -> None:
            shutil.move(entry, backup)

        def restore(entry: Path = entry, backup: Path = backup) -> None:
            shutil.move(backup, entry)

        still(remove, restore)
    for path in case.primary:
        if not path.is_file() or path.is_symlink():
            continue
        _shrink_file(path, still)


def _shrink_file(path: Path, still: Callable[[Callable[[], object], Callable[[], object]], bool]) -> None:
    original = path.read_bytes()
    current = [original]

    def attempt(data: bytes) -> bool:
        before = current[0]
        ok = still(lambda: path.write_bytes(data), lambda: path.write_bytes(before))
        if ok:
            current[0] = data
        return ok

    with contextlib.suppress(ValueError, UnicodeDecodeError, RecursionError):
        document = json.loads(original)
        if isinstance(document, dict | list):
            _shrink_tree(document, lambda d: attempt(dump_json(d, indent=1).encode("utf-8", "surrogatepass")))
    # lines, in halving chunks
    lines = current[0].split(b"\n")
    chunk = max(1, len(lines) // 2)
    while chunk >= 1:
        i = 0
        while i < len(lines):
            candidate = lines[:i] + lines[i + chunk:]
            if candidate != lines and attempt(b"\n".join(candidate)):
                lines = candidate
            else:
                i += chunk
        chunk //= 2
    # bytes of long lines, for small files
    data = current[0]
    if len(data) < 20_000:
        chunk = max(1, len(data) // 8)
        while chunk >= 1:
            i = 0
            while i < len(data):
                shorter = data[:i] + data[i + chunk:]
                if attempt(shorter):
                    data = shorter
                else:
                    i += chunk
            chunk //= 4 if chunk > 4 else 2


def _shrink_tree(document: Any, attempt: Callable[[Any], bool]) -> None:
    changed = True
    while changed:
        changed = False
        for container, key in _slots(document, 2000):
            if isinstance(container, dict):
                if key not in container:
                    continue
                value = container.pop(key)
                if attempt(document):
                    changed = True
                    continue
                container[key] = value
            else:
                if key >= len(container):
                    continue
                value = container.pop(key)
                if attempt(document):
                    changed = True
                    continue
                container.insert(key, value)
            if isinstance(value, str) and len(value) > 20:
                container[key] = value[: len(value) // 2]
                if attempt(document):
                    changed = True
                else:
                    container[key] = value


# --- main loop ------------------------------------------------------------------------------------


def schedule(targets: list[str]) -> list[str]:
    return [t for t in targets for _ in range(WEIGHTS.get(t, 1))]


def make_case(ctx: Context, target: str, rng: random.Random) -> Case:
    if target in LOCK_TARGETS:
        return lockfile_case(ctx, target, rng)
    return {"venv": venv_case, "baseline": baseline_case, "policy": policy_case, "models": models_case,
            "advisories": advisories_case, "record": record_case}[target](ctx, rng)


# What a library's own multi-line message looks like (packaging's caret line, PyYAML's position line):
# a newline in quoted input is escaped by the CLI and is no fault of the message.
_LIBRARY_LINES = re.compile(r"\n\s+(?:\^|in \"<unicode string>\")")


def _odd_names(result: Path) -> list[str]:
    """Package names in a result.json that no format allows: blank, or holding whitespace or control
    characters (a reader that let one through gives a verdict on a package nobody can name)."""
    try:
        manifest = json.loads(result.read_text("utf-8"))["environment"]["manifest"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    return [entry["name"] for entry in manifest if isinstance(entry, dict) and isinstance(entry.get("name"), str)
            and entry.get("pypi_name") is not None
            and (not entry["name"].strip() or any(c.isspace() or ord(c) < 0x20 for c in entry["name"]))]


def _remove(path: Path) -> None:
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)


def _clean(ctx: Context) -> None:
    for name in ("case", "out", "backup"):
        _remove(ctx.work / name)


def save_crash(ctx: Context, number: int, case: Case, outcome: Outcome, iteration: int, seed: int) -> Path:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", outcome.signature)[:80].strip("-")
    destination = ctx.work / "crashes" / f"{number:02d}-{slug}"
    shutil.rmtree(destination, ignore_errors=True)
    shutil.copytree(case.folder, destination / "input", symlinks=True, copy_function=_copy_entry)
    commands = case.commands(destination / "input")
    (destination / "command.txt").write_text("".join("gate " + " ".join(_shell_quote(a) for a in args) + "\n"
                                                     for args in commands))
    (destination / "traceback.txt").write_text(
        f"{outcome.signature}\ntarget: {case.description}\niteration {iteration} of --seed {seed}\n\n{outcome.trace}")
    return destination


def _copy_entry(source: str, target: str) -> None:
    """shutil.copy2, except that a FIFO (a venv mutation) is made anew rather than opened."""
    if stat.S_ISFIFO(os.lstat(source).st_mode):
        os.mkfifo(target)
    else:
        shutil.copy2(source, target)


def _shell_quote(text: str) -> str:
    return text if re.fullmatch(r"[\w./=,:+-]+", text) else "'" + text.replace("'", "'\\''") + "'"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget", type=float, default=300.0, help="seconds of fuzzing (minimisation included)")
    parser.add_argument("--runs", type=int, default=None, help="stop after this many runs instead")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--targets", default=",".join(TARGETS), help=f"comma-separated: {TARGETS_HINT}")
    parser.add_argument("--work", type=Path, default=Path("/tmp/gate-fuzz"))
    parser.add_argument("--db", type=Path, default=None,
                        help="a compiled advisory DB (default: WORK/advisories.sqlite3)")
    parser.add_argument("--replay", type=int, default=None, help="run this one iteration again and print its outcome")
    parser.add_argument("--start", type=int, default=0, help="first iteration number")
    parser.add_argument("--minimise-seconds", type=float, default=60.0)
    parser.add_argument("--verbose", action="store_true", help="print every run's exit code and error")
    options = parser.parse_args()
    wanted = [t.strip() for t in options.targets.split(",") if t.strip()]
    unknown = sorted(set(wanted) - set(TARGETS))
    if unknown:
        parser.error(f"unknown targets {unknown}; known: {TARGETS_HINT}")
    resource.setrlimit(resource.RLIMIT_AS, (8 << 30, resource.RLIM_INFINITY))
    ctx = prepare(options.work, options.db)
    order = schedule(wanted)
    if options.replay is not None:
        _replay(ctx, order, options)
        return
    shutil.rmtree(ctx.work / "crashes", ignore_errors=True)
    crashes: dict[str, int] = {}
    unexpected: dict[tuple[str, int], str] = {}
    codes: dict[str, Counter[int | None]] = {t: Counter() for t in wanted}
    unlocated: dict[str, str] = {}
    odd_names: dict[str, str] = {}
    started = time.monotonic()
    iteration = options.start
    runs = 0
    while True:
        if options.runs is not None and runs >= options.runs:
            break
        if options.runs is None and time.monotonic() - started > options.budget:
            break
        target = order[iteration % len(order)]
        rng = random.Random(f"{options.seed}:{iteration}")
        _clean(ctx)
        try:
            case = make_case(ctx, target, rng)
        except Exception as error:  # a harness bug must not end the session
            print(f"[{iteration}] harness could not make a {target} case: {type(error).__name__}: {error}")
            iteration += 1
            continue
        outcome = run_case(case)
        runs += 1
        codes[target][outcome.code] += 1
        if options.verbose:
            print(f"[{iteration}] {target}: exit {outcome.code} {outcome.error[:160]!r}{outcome.signature}")
        if outcome.crash is not None and outcome.signature not in crashes:
            crashes[outcome.signature] = iteration
            print(f"\nCRASH #{len(crashes)} [{iteration}] {outcome.signature}: "
                  f"{str(outcome.crash)[:200]!r} ({case.description})", flush=True)
            try:
                minimise(case, outcome.signature, seconds=options.minimise_seconds)
            except Exception as error:  # keep the unminimised input rather than stop
                print(f"  (minimisation stopped: {type(error).__name__}: {error})")
            saved = save_crash(ctx, len(crashes), case, outcome, iteration, options.seed)
            print(f"  minimised input, command and traceback: {saved}", flush=True)
        elif outcome.code is not None and outcome.code not in case.allowed:
            key = (target, outcome.code)
            if key not in unexpected:
                unexpected[key] = f"[{iteration}] {outcome.error[:200]}"
                print(f"\nUNEXPECTED EXIT {outcome.code} [{iteration}] {target}: {outcome.error[:200]}", flush=True)
        elif outcome.code in (0, 1) and (odd := _odd_names(ctx.work / "out" / "result.json")):
            if target not in odd_names:
                odd_names[target] = f"[{iteration}] {odd[:3]!r} ({case.description})"
                print(f"\nODD PACKAGE NAMES [{iteration}] {target}: {odd[:3]!r}", flush=True)
        elif outcome.code in (3, 4, 5) and outcome.error and (_LIBRARY_LINES.search(outcome.error)
                                                              or not outcome.error.startswith(("/", "GATE_"))):
            template = re.sub(r"\d+", "N", outcome.error)[:60]
            unlocated.setdefault(template, f"[{iteration}] {target}: {outcome.error[:300]!r}")
        if runs % 250 == 0:
            print(f"{runs} runs, {time.monotonic() - started:.0f} s, {len(crashes)} crashes", flush=True)
        iteration += 1
    _clean(ctx)
    elapsed = time.monotonic() - started
    print(f"\n{runs} runs in {elapsed:.0f} s (iterations {options.start}..{iteration - 1}, --seed {options.seed})")
    for target in wanted:
        shown = ", ".join(f"exit {c if c is not None else 'CRASH'}: {n}" for c, n in sorted(
            codes[target].items(), key=lambda item: -1 if item[0] is None else item[0]))
        print(f"  {target:<18} {sum(codes[target].values()):>6} runs  {shown}")
    print(f"distinct crashes: {len(crashes)}")
    for signature, first in crashes.items():
        print(f"  {signature} (first at iteration {first})")
    for (target, code), text in sorted(unexpected.items()):
        print(f"unexpected exit {code} for {target}: {text}")
    for target, text in odd_names.items():
        print(f"{target} judged packages with blank names or names holding whitespace or control characters: {text}")
    if unlocated:
        print("errors that name no file or carry a library's extra lines (first of each kind):")
        for text in unlocated.values():
            print(f"  {text}")
    sys.exit(1 if crashes else 0)


def _replay(ctx: Context, order: list[str], options: argparse.Namespace) -> None:
    iteration = options.replay
    target = order[iteration % len(order)]
    rng = random.Random(f"{options.seed}:{iteration}")
    _clean(ctx)
    case = make_case(ctx, target, rng)
    outcome = run_case(case)
    print(f"iteration {iteration}: {case.description}")
    for args in case.commands(case.folder):
        print("gate " + " ".join(_shell_quote(a) for a in args))
    print(f"exit {outcome.code}: {outcome.error}")
    if outcome.crash is not None:
        print(outcome.trace)
    print(f"(the input stays in {case.folder})")


if __name__ == "__main__":
    main()
