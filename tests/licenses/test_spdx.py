"""Parsing SPDX expressions strictly, and the ScanCode categories behind them."""

from __future__ import annotations

import json
from pathlib import Path

import license_expression
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gate.licenses import CATEGORIES, InvalidExpression, category_of, normalise_id, parse_expression
from gate.licenses.spdx import AllOf, AnyOf, Term


@pytest.mark.parametrize(("text", "normalised"), [
    ("MIT", "MIT"),
    ("mit", "MIT"),
    ("Apache-2.0 or mit", "Apache-2.0 OR MIT"),
    ("GPL-2.0", "GPL-2.0-only"),  # deprecated SPDX ids mean what SPDX says
    ("GPL-2.0+", "GPL-2.0-or-later"),
    ("LGPL-2.1+", "LGPL-2.1-or-later"),
    ("AGPL-3.0", "AGPL-3.0-only"),
    ("BSD-2-Clause-FreeBSD", "BSD-2-Clause-Views"),
    ("gpl-2.0-only with classpath-exception-2.0", "GPL-2.0-only WITH Classpath-exception-2.0"),
    ("MIT  AND\t(BSD-3-Clause OR Apache-2.0)", "MIT AND (BSD-3-Clause OR Apache-2.0)"),
    ("LicenseRef-Acme-1.0", "LicenseRef-Acme-1.0"),
    ("LicenseRef-scancode-public-domain", "LicenseRef-scancode-public-domain"),
])
def test_normalisation(text: str, normalised: str) -> None:
    assert parse_expression(text).text == normalised


@pytest.mark.parametrize(("text", "reason"), [
    ("", "empty"),
    ("()", "expected a licence id, found ')'"),  # the library raises IndexError on this one
    ("( AND MIT", "expected a licence id, found 'AND'"),  # and AssertionError on this one
    ("(" * 40 + "MIT" + ")" * 40, "nested deeper than 32"),
    ("MIT AND", "expected a licence id, found the end"),
    ("(MIT", "expected ')', found the end"),
    ("Apache 2.0", "unexpected '2.0' after a complete expression"),
    ("MIT WITH", "expected a licence id, found the end"),
    ("BSD", "unknown licence id(s): BSD"),
    ("MIT+", "unknown licence id(s): MIT+"),
    ("GPL", "unknown licence id(s): GPL"),  # ScanCode reads it as GPL-1.0-or-later; SPDX has no such id
    ("BSD-2", "unknown licence id(s): BSD-2"),
    ("LicenseRef-MIT-Bootstrap OR Foo", "unknown licence id(s): Foo"),
    ("Classpath-exception-2.0", "exception"),  # an exception is not a licence
    ("MIT WITH Apache-2.0", "cannot be used as an exception"),
    ("MIT/Apache-2.0", "Invalid license key"),
    ("DocumentRef-x:LicenseRef-y", "unknown licence id(s)"),
    ("MIT OR " * 400 + "MIT", "longer than 2000 characters"),
])
def test_invalid(text: str, reason: str) -> None:
    with pytest.raises(InvalidExpression) as raised:
        parse_expression(text)
    assert reason in str(raised.value)


def test_scancode_aliases_that_are_not_spdx_are_not_applied() -> None:
    # ScanCode maps this package-defined reference to MIT; its meaning is the package's own.
    assert parse_expression("LicenseRef-MIT-Bootstrap").text == "LicenseRef-MIT-Bootstrap"
    assert category_of("LicenseRef-MIT-Bootstrap") is None


def test_tree() -> None:
    tree = parse_expression("MIT OR (GPL-2.0-only WITH Classpath-exception-2.0 AND Zlib)").tree
    assert tree == AnyOf(terms=(Term("MIT"), AllOf(terms=(Term("GPL-2.0-only", "Classpath-exception-2.0"),
                                                          Term("Zlib")))))


def test_categories() -> None:
    assert category_of("MIT") == "Permissive"
    assert category_of("GPL-3.0-only") == "Copyleft"
    assert category_of("LGPL-2.1-or-later") == "Copyleft Limited"
    assert category_of("MPL-2.0") == "Copyleft Limited"
    assert category_of("CC0-1.0") == "Public Domain"
    assert category_of("SSPL-1.0") == "Source-available"
    assert category_of("LicenseRef-scancode-commercial-license") == "Commercial"
    assert category_of("NoSuchLicence") is None


def test_categories_constant_matches_the_bundled_index() -> None:
    index = json.loads(Path(license_expression.vendored_scancode_licensedb_index_location).read_text("utf-8"))
    assert {entry["category"] for entry in index if entry.get("spdx_license_key")} == CATEGORIES


def test_normalise_id() -> None:
    assert normalise_id("apache-2.0") == "Apache-2.0"
    assert normalise_id(" GPL-2.0+ ") == "GPL-2.0-or-later"
    assert normalise_id("LicenseRef-Acme") == "LicenseRef-Acme"
    assert normalise_id("Apache2") is None
    assert normalise_id("GPL") is None
    assert normalise_id("Classpath-exception-2.0") is None  # exceptions are not licences to allow or deny


_PIECES = st.sampled_from(["MIT", "mit", "AND", "OR", "WITH", "with", "(", ")", " ", "+", "GPL-2.0",
                           "Classpath-exception-2.0", "LicenseRef-x", "Foo", "/", ",", "\n", "\t", ":", "_"])


@given(st.lists(_PIECES, max_size=12).map("".join) | st.lists(_PIECES, max_size=12).map(" ".join)
       | st.text(max_size=60))
def test_parse_raises_only_invalid_expression_and_is_idempotent(text: str) -> None:
    try:
        parsed = parse_expression(text)
    except InvalidExpression:
        return
    assert parse_expression(parsed.text) == parsed
