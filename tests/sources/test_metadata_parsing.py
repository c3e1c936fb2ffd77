"""The reader parses only the wanted header lines of METADATA, for speed. These tests hold it
to the result of ``packaging.metadata.parse_email`` on the whole file (what importlib.metadata
and pip see), on generated files full of the awkward cases: continuation lines, lines of
spaces, case-varied field names, duplicates, stray non-header lines, CRLF and lone CR line
ends, form feeds and Unicode line separators inside values, and fields in the body."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.metadata import parse_email

from gate.errors import InputError
from gate.sources.venv import _parse_metadata

FIELDS = ["Metadata-Version", "Name", "Version", "Summary", "Requires-Dist", "License", "License-Expression",
          "Classifier", "Provides-Extra", "Home-page", "License-File", "Description-Content-Type", "X-Custom"]
TITLES = {"name": "Name", "version": "Version", "license": "License", "license-expression": "License-Expression",
          "requires-dist": "Requires-Dist", "classifier": "Classifier"}
CLASSIFIERS = ["License :: OSI Approved :: MIT License", "Programming Language :: Python :: 3",
               "License :: Other/Proprietary License", "license :: lower case"]

value_text = st.text(alphabet=st.sampled_from("abcXYZ019 .,;:=<>()'\"!~*-_/\\é€\t\x0c\x0b\x1c\x85\u2028"),
                     max_size=12)
field_name = st.builds(lambda name, case: case(name), st.sampled_from(FIELDS),
                       st.sampled_from([str, str.lower, str.upper, str.swapcase]))


@st.composite
def header_line(draw: st.DrawFn) -> list[str]:
    if draw(st.integers(0, 20)) == 0:
        return [draw(st.sampled_from(["garbage without colon", "Ünïcode-Name: x", "Name : spaced", ": empty"]))]
    name = draw(field_name)
    value = draw(st.sampled_from(CLASSIFIERS)) if name.lower() == "classifier" and draw(st.booleans()) \
        else draw(value_text)
    lines = [f"{name}:{draw(st.sampled_from(['', ' ', '  ']))}{value}"]
    for _ in range(draw(st.integers(0, 2))):
        lines.append(draw(st.sampled_from([" ", "\t", "        "])) + draw(value_text))
    return lines


@st.composite
def metadata_file(draw: st.DrawFn) -> str:
    lines = [line for group in draw(st.lists(header_line(), max_size=12)) for line in group]
    if draw(st.booleans()):
        lines.insert(draw(st.integers(0, len(lines))), "Name: drawn")
        lines.insert(draw(st.integers(0, len(lines))), "Version: 1.0")
    if draw(st.booleans()):
        lines += ["", "Long description.", "Name: from-the-body", "Version: 9.9"]
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    return newline.join(lines) + draw(st.sampled_from([newline, ""]))


def reference(text: str) -> tuple[object, ...]:
    raw, unparsed = parse_email(text)
    for field in sorted(unparsed.keys() & TITLES.keys()):
        return ("error", field)
    name = raw.get("name", "").strip()
    if not name:
        return ("error", "no name")
    if not raw.get("version", "").strip():
        return ("error", "no version")
    classifiers = tuple(c for c in raw.get("classifiers", []) if c.startswith("License ::"))
    return (name, raw.get("version"), tuple(raw.get("requires_dist", [])), raw.get("license"),
            raw.get("license_expression"), classifiers)


def ours(text: str) -> tuple[object, ...]:
    try:
        metadata = _parse_metadata(text.encode("utf-8"), where="METADATA")
    except InputError as error:
        if error.message == "no Name field":
            return ("error", "no name")
        if error.message == "no Version field":
            return ("error", "no version")
        title = error.message.removeprefix("more than one ").removeprefix("cannot parse the ").removesuffix(" field")
        return ("error", {v: k for k, v in TITLES.items()}[title])
    return (metadata.name, metadata.version, metadata.requires, metadata.license.text, metadata.license.expression,
            metadata.license.classifiers)


@settings(max_examples=400, deadline=None)
@given(metadata_file())
def test_header_subset_parses_like_the_whole_file(text: str) -> None:
    assert ours(text) == reference(text)


def test_examples_that_matter() -> None:
    whole = "Name: a\nVersion: 1\nLicense: first\n        \n        second\nSummary: s\n\nName: body\n"
    assert ours(whole) == reference(whole) == ("a", "1", (), "first\n        \n        second", None, ())
    stray = "Name: a\nVersion: 1\nnot a header\nLicense: after\n"
    assert ours(stray) == reference(stray) == ("a", "1", (), None, None, ())
    crlf = "Name: a\r\nVersion: 1\r\nRequires-Dist: b; extra == 'x'\r\n\r\nbody\r\n"
    assert ours(crlf) == reference(crlf) == ("a", "1", ("b; extra == 'x'",), None, None, ())
