"""The parsing helpers every lockfile reader shares (gate/sources/lockfile.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from gate.errors import InputError
from gate.sources.base import load_json
from gate.sources.lockfile import load_toml


def error(load: Callable[..., Any], text: str) -> str:
    with pytest.raises(InputError) as raised:
        load(text, where="lock")
    return str(raised.value)


# Found by benchmarks/fuzz_inputs.py: json and tomllib let int()'s ValueError for more than 4,300
# digits through, not their decode errors (exit 70 in every reader that used these helpers).

def test_json_number_too_long_to_convert_names_its_line() -> None:
    digits = "1" * 5000
    assert error(load_json, '{\n  "a": "' + digits + '",\n  "b": ' + digits + "\n}") == (
        "lock:3: not valid JSON (a number of more than 4300 digits)")  # the digits in a string are no number
    assert error(load_json, '{\n  "b": -' + digits + "\n}") == (
        "lock:2: not valid JSON (a number of more than 4300 digits)")
    assert load_json('{"b": ' + "2" * 4300 + "}", where="lock") == {"b": int("2" * 4300)}


def test_toml_number_too_long_to_convert_names_its_line() -> None:
    digits = "1" * 5000
    assert error(load_toml, 'a = "x"\nb = ' + digits + "\n") == (
        "lock:2: not valid TOML (a number of more than 4300 digits)")
    assert error(load_toml, "a = 1\nb = 1" + "_1" * 5000 + "\n") == (
        "lock:2: not valid TOML (a number of more than 4300 digits)")
    text = "a = '''\n" + digits + "\n'''\n# " + digits + "\nb = [\n  " + digits + "\n]\n"
    assert error(load_toml, text) == "lock:6: not valid TOML (a number of more than 4300 digits)"
