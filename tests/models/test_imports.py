"""Classification of imported globals, over picklescan's list and ours."""

from __future__ import annotations

import pytest

from gate.model import Safety
from gate.models.imports import classify


@pytest.mark.parametrize(("module", "name"), [
    ("os", "system"), ("posix", "system"), ("nt", "system"), ("subprocess", "Popen"), ("subprocess", "check_output"),
    ("builtins", "eval"), ("builtins", "exec"), ("builtins", "getattr"), ("builtins", "__import__"),
    ("__builtin__", "eval"), ("os.path", "join"), ("importlib", "import_module"), ("runpy", "_run_code"),
    ("torch.serialization", "load"), ("keras.layers", "Lambda"), ("?", "?"), ("os", "sys tem"),
    ("builtins", "getattr.__call__"), ("functools", "partial"),
])
def test_dangerous(module: str, name: str) -> None:
    assert classify(module, name) is Safety.DANGEROUS


@pytest.mark.parametrize(("module", "name"), [
    ("collections", "OrderedDict"), ("torch._utils", "_rebuild_tensor_v2"), ("torch", "FloatStorage"),
    ("numpy", "dtype"), ("numpy._core.multiarray", "_reconstruct"), ("joblib.numpy_pickle", "NumpyArrayWrapper"),
    ("builtins", "set"), ("_codecs", "encode"),
])
def test_safe(module: str, name: str) -> None:
    assert classify(module, name) is Safety.SAFE


@pytest.mark.parametrize(("module", "name"), [
    ("sklearn.linear_model._logistic", "LogisticRegression"), ("__main__", "Net"), ("builtins", "print"),
    ("functools", "partialmethod"), ("numpy", "frombuffer"),
])
def test_suspicious(module: str, name: str) -> None:
    assert classify(module, name) is Safety.SUSPICIOUS


def test_picklescan_lists_have_the_shape_we_read() -> None:
    # An upgrade of picklescan that changes its list layout must fail here, not weaken the scan.
    from picklescan import scanner

    for table in (scanner._unsafe_globals, scanner._safe_globals):
        assert isinstance(table, dict) and table
        for module, names in table.items():
            assert isinstance(module, str)
            assert names == "*" or isinstance(names, (str, set, frozenset))
