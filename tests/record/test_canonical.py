"""``canonical_bytes`` is ``rfc8785.dumps``, only faster: the same bytes (or the same refusal) for any JSON."""

from __future__ import annotations

from typing import Any

import pytest
import rfc8785
from hypothesis import example, given, settings
from hypothesis import strategies as st

from gate.record.statement import canonical_bytes

_scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**60), max_value=2**60)
            | st.floats(allow_nan=False, allow_infinity=False) | st.text())
_json = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner,
                                                                                             max_size=5),
                     max_leaves=40)


@settings(max_examples=400, deadline=None)
@given(_json)
def test_same_bytes_as_rfc8785(value: Any) -> None:
    try:
        expected = rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, UnicodeEncodeError, ValueError) as error:
        with pytest.raises(type(error)):
            canonical_bytes(value)
        return
    assert canonical_bytes(value) == expected


@pytest.mark.parametrize("value", [10.0, -0.0, 1e-07, 1e16, 1e21, 5e-324, 0.1, 2**53, -(2**53 - 1),
                                   {"\U0001f600": 1, "\ufb01": 2}, {"b": [1, {"a": "\u2028\x7f\x1f"}]}])
def test_the_forms_where_python_and_ecmascript_differ(value: Any) -> None:
    try:
        expected = rfc8785.dumps(value)
    except rfc8785.CanonicalizationError:
        with pytest.raises(rfc8785.CanonicalizationError):
            canonical_bytes(value)
        return
    assert canonical_bytes(value) == expected


@settings(max_examples=400, deadline=None)
@given(_json, st.booleans())
@example(2.269072257765365e-05, False)  # RFC 8785 writes it out in full, Python with an exponent: found by hypothesis
def test_load_canonical_agrees_with_rfc8785(value: Any, indent: bool) -> None:
    import json

    from gate.record.statement import load_canonical

    try:
        canonical = rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, UnicodeEncodeError, ValueError):
        return
    assert load_canonical(canonical)[1] == _reference(canonical)
    other = json.dumps(value, indent=1 if indent else None, ensure_ascii=not indent).encode()
    assert load_canonical(other)[1] == _reference(other)


def _reference(payload: bytes) -> bool:
    """The check as it was: parse, then compare with rfc8785's bytes (a float beyond 2^53 that RFC 8785
    writes as an integer reads back as an integer it refuses: not canonical, by either check)."""
    import json

    try:
        return bool(rfc8785.dumps(json.loads(payload)) == payload)
    except (rfc8785.CanonicalizationError, ValueError, UnicodeEncodeError):
        return False


@pytest.mark.parametrize(("text", "canonical"), [
    (b'{"a":10}', True), (b'{"a":10.0}', False), (b'{"a":1e+21}', True), (b'{"a":1e21}', False),
    (b'{"a":-0.0}', False), (b'{"a":0.1}', True), (b'{"b":1,"a":2}', False), (b'{"a":9007199254740993}', False),
    ('{"\U0001f600":1,"\ufb01":2}'.encode(), True), ('{"\ufb01":2,"\U0001f600":1}'.encode(), False)])
def test_load_canonical_on_the_hard_cases(text: bytes, canonical: bool) -> None:
    from gate.record.statement import load_canonical

    assert load_canonical(text)[1] is canonical
