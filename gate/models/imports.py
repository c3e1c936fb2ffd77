"""Classify the globals a pickle imports: safe, suspicious or dangerous.

The deny and allow lists start from picklescan's (``picklescan.scanner._unsafe_globals`` and
``_safe_globals``): the most closely kept public list of pickle gadgets, updated with each of its
releases, so upgrading picklescan upgrades the gate's knowledge. Our own additions cover what it
leaves at "suspicious" although loading it runs code by itself (``builtins.__import__``,
``importlib``, ``marshal``, ``types.FunctionType``, ...) and the plain building blocks that
torch, numpy and joblib files use. Everything else is suspicious: an unknown class runs its own
``__setstate__``/``__reduce__`` code when loaded, so it is never called safe.

A name that is not a plain dotted identifier (an operand the walk could not resolve, shown as
``?``) is dangerous: the loader would import something the scan cannot see.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import cache

from gate.model import PickleImport, Safety

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
ANY = "*"

# Loading any of these runs code or touches the system by itself (on top of picklescan's list).
EXTRA_DANGEROUS: dict[str, str | frozenset[str]] = {
    "builtins": frozenset({"__import__", "eval", "exec", "compile", "getattr", "setattr", "delattr", "globals",
                           "locals", "vars", "open", "input", "breakpoint", "__build_class__", "help"}),
    "__builtin__": frozenset({"__import__", "eval", "exec", "execfile", "compile", "getattr", "setattr",
                              "delattr", "globals", "locals", "vars", "open", "file", "input", "raw_input"}),
    "os": ANY, "posix": ANY, "nt": ANY, "subprocess": ANY, "sys": ANY, "importlib": ANY, "imp": ANY,
    "marshal": ANY, "pickle": ANY, "_pickle": ANY, "dill": ANY, "cloudpickle": ANY, "shelve": ANY,
    "code": ANY, "codeop": ANY, "ctypes": ANY, "_ctypes": ANY, "multiprocessing": ANY, "signal": ANY,
    "types": frozenset({"CodeType", "FunctionType", "LambdaType", "MethodType", "ModuleType"}),
    "operator": frozenset({"attrgetter", "itemgetter", "methodcaller"}),
    "_operator": frozenset({"attrgetter", "itemgetter", "methodcaller"}),
    "functools": frozenset({"partial", "reduce"}),
    "torch.serialization": frozenset({"load", "_load"}),
    "torch.storage": frozenset({"_load_from_bytes"}),
    "numpy": frozenset({"load", "loads"}),
    "numpy.lib.npyio": ANY,
    "joblib": frozenset({"load"}),
    "pandas": frozenset({"read_pickle"}),
    "keras.layers": frozenset({"Lambda"}),  # a Keras Lambda layer: marshalled bytecode, run when loaded
}

# Plain data and the rebuild functions of torch, numpy and joblib: they construct values only.
EXTRA_SAFE: dict[str, frozenset[str]] = {
    "builtins": frozenset({"set", "frozenset", "slice", "complex", "bytearray", "range", "dict", "list",
                           "tuple", "int", "float", "str", "bool", "bytes", "object"}),
    "__builtin__": frozenset({"set", "frozenset", "slice", "complex", "bytearray", "xrange", "object"}),
    "copy_reg": frozenset({"_reconstructor"}),
    "copyreg": frozenset({"_reconstructor"}),
    "_codecs": frozenset({"encode"}),
    "collections": frozenset({"OrderedDict", "defaultdict", "deque", "Counter"}),
    "datetime": frozenset({"datetime", "date", "time", "timedelta", "timezone"}),
    "decimal": frozenset({"Decimal"}),
    "numpy": frozenset({"dtype", "ndarray", "float16", "float32", "float64", "int8", "int16", "int32", "int64",
                        "uint8", "uint16", "uint32", "uint64", "bool_"}),
    "numpy.core.multiarray": frozenset({"_reconstruct", "scalar"}),
    "numpy._core.multiarray": frozenset({"_reconstruct", "scalar"}),
    "numpy.dtypes": frozenset({"Float16DType", "Float32DType", "Float64DType", "Int8DType", "Int16DType",
                               "Int32DType", "Int64DType", "UInt8DType", "UInt16DType", "UInt32DType",
                               "UInt64DType", "BoolDType"}),
    "joblib.numpy_pickle": frozenset({"NumpyArrayWrapper"}),
    "torch._utils": frozenset({"_rebuild_tensor", "_rebuild_tensor_v2", "_rebuild_tensor_v3", "_rebuild_parameter",
                               "_rebuild_parameter_with_state", "_rebuild_qtensor", "_rebuild_sparse_tensor"}),
    "torch": frozenset({"Size", "device", "float16", "float32", "float64", "bfloat16", "int8", "int16", "int32",
                        "int64", "uint8", "bool", "complex64", "complex128"}),
    "torch.nn.parameter": frozenset({"Parameter"}),
}


@cache
def _lists() -> tuple[dict[str, str | frozenset[str]], dict[str, frozenset[str]]]:
    """picklescan's lists merged with ours, every entry either ``*`` or a set of names."""
    from picklescan import scanner

    dangerous: dict[str, str | frozenset[str]] = {}
    for source in (scanner._unsafe_globals, EXTRA_DANGEROUS):
        for module, names in source.items():
            dangerous[module] = _merge(dangerous.get(module), names)
    safe: dict[str, frozenset[str]] = {}
    for source_safe in (scanner._safe_globals, EXTRA_SAFE):
        for module, names in source_safe.items():
            if names == ANY:  # never allow a whole module
                continue
            safe[module] = safe.get(module, frozenset()) | _names(names)
    return dangerous, safe


def _names(names: object) -> frozenset[str]:
    if isinstance(names, str):  # picklescan writes a single name as a bare string
        return frozenset({names})
    if isinstance(names, Iterable):
        return frozenset(str(name) for name in names)
    raise TypeError(f"unexpected picklescan list entry {names!r}")


def _merge(current: str | frozenset[str] | None, names: object) -> str | frozenset[str]:
    if isinstance(current, str) or names == ANY:  # a module already denied whole stays so
        return ANY
    return (current or frozenset()) | _names(names)


def classify(module: str, name: str) -> Safety:
    dangerous, safe = _lists()
    if not _IDENTIFIER.match(module) or not _IDENTIFIER.match(name):
        return Safety.DANGEROUS
    if _denied(dangerous, module, name):
        return Safety.DANGEROUS
    if name in safe.get(module, ()):
        return Safety.SAFE
    return Safety.SUSPICIOUS


def _denied(dangerous: Mapping[str, str | frozenset[str]], module: str, name: str) -> bool:
    parts = module.split(".")
    for index in range(1, len(parts) + 1):  # os.path.join is os's: a parent module denied whole denies it
        entry = dangerous.get(".".join(parts[:index]))
        if entry == ANY or (index == len(parts) and entry is not None and (
                name in entry or name.split(".")[0] in entry)):
            return True
    return False


def classify_all(found: Iterable[tuple[str, str]], *, stream: str) -> list[PickleImport]:
    return [PickleImport(module=module, name=name, safety=classify(module, name), stream=stream)
            for module, name in sorted(set(found))]
