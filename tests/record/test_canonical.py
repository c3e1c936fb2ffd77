"""``canonical_bytes`` is ``rfc8785.dumps``, only faster: the same bytes (or the same refusal) for any JSON."""

from __future__ import annotations

from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
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
