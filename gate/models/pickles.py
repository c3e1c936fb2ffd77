"""Static pickle scanning: walk the opcodes, never execute them.

A pickle is a program for a small stack machine; loading it runs every ``REDUCE``/``BUILD``
against the globals it imports. This module walks that program symbolically (the stdlib's
opcode table, its own argument reading) and records each global it would import, without
importing, calling or constructing anything. It tracks just enough of the stack to resolve
``STACK_GLOBAL`` operands and to follow joblib's layout, where raw numpy array bytes sit *between*
opcodes right after each ``NumpyArrayWrapper`` is built: scanners that do not know this stop at
the first array and miss whatever follows it (measured: docs/models.md).

Fail closed: an opcode that is not one, a stream that ends inside a pickle, a ``STACK_GLOBAL``
whose operands are not plain strings, a joblib array whose size cannot be worked out, all end
the walk with a problem, which the policy treats as unsafe. Bytes are skipped, not kept, so the
walk streams at the speed of the hash.

Memory is bounded whatever the file holds. A pickle of one-byte opcodes (``]`` is a new list)
would otherwise grow the walk's stack by fifty times the file's size; so the stack, the MARKs,
the distinct imports and the container items the walk keeps alive all have a ceiling, far above
what a model's pickle needs. Passing the stack, MARK or import ceiling ends the walk with a
problem (unsafe, as above); items past the item budget are dropped, as past ``MAX_ITEMS``, since
the walk only needs the first items of a container to resolve operands.
"""

from __future__ import annotations

import ast
import pickletools
import struct
from dataclasses import dataclass, field
from typing import Any

from gate.models.stream import LimitExceeded, Source, Truncated

MAX_LINE = 1 << 16  # a protocol 0 argument line
MAX_TEXT = 1 << 16  # strings longer than this are skipped, not kept: no global name is that long
MAX_ITEMS = 4096  # container items kept for resolving operands; later ones are only counted
MAX_MEMO = 1 << 20  # memo entries kept
MAX_NESTED = 8  # pickles inside pickles (joblib object arrays)
MAX_STACK = 1 << 20  # values on the stack, and open MARKs
MAX_IMPORTS = 1 << 16  # distinct globals one stream imports
MAX_KEPT = 1 << 22  # container items kept alive in one walk, across containers
HIGHEST_PROTOCOL = 5

JOBLIB_WRAPPERS = frozenset({("joblib.numpy_pickle", "NumpyArrayWrapper"),
                             ("sklearn.externals.joblib.numpy_pickle", "NumpyArrayWrapper")})

_OPCODES: dict[int, str] = {ord(op.code.encode("latin-1")): op.name for op in pickletools.opcodes}


class PickleError(Exception):
    """The stream is not a well-formed pickle at some offset (fail closed)."""


@dataclass(frozen=True, slots=True)
class Global:
    module: str
    name: str


@dataclass(slots=True)
class _Call:
    """The result of REDUCE/NEWOBJ/INST/OBJ: what was called and with what (symbolically)."""

    callee: Any
    args: Any
    state: Any = None


class _Opaque:
    """A value the walk does not track (bytes, a persistent id, a large string)."""

    __slots__ = ()


OPAQUE = _Opaque()


@dataclass(slots=True)
class WalkResult:
    imports: list[tuple[str, str]] = field(default_factory=list)  # in order of appearance, duplicates kept
    joblib_arrays: int = 0


def _decode_line_string(raw: bytes) -> str:
    """A protocol 0 STRING argument: a quoted Python literal, read with literal_eval (never eval)."""
    text = raw.decode("latin-1")
    if len(text) < 2 or text[0] not in "'\"" or text[-1] != text[0]:
        raise PickleError("STRING argument is not quoted")
    value = ast.literal_eval(text)
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if not isinstance(value, str):
        raise PickleError("STRING argument is not a string")
    return value


class Walker:
    """Walk pickle streams from a :class:`Source`, collecting the globals they import."""

    def __init__(self, source: Source, *, joblib: bool = True, depth: int = 0) -> None:
        self.source = source
        self.joblib = joblib
        self.depth = depth
        self.result = WalkResult()
        self.seen: set[tuple[str, str]] = set()
        self.budget = MAX_KEPT

    def walk(self) -> None:
        """Walk one pickle, from its first opcode to its STOP."""
        source = self.source
        stack: list[Any] = []
        marks: list[int] = []
        memo: dict[int, Any] = {}
        imports = self.result.imports
        seen = self.seen
        max_stack = MAX_STACK

        def pop() -> Any:
            if not stack or (marks and len(stack) == marks[-1]):
                raise PickleError(f"stack underflow at offset {source.offset - 1}")
            return stack.pop()

        def pop_mark() -> list[Any]:
            if not marks:
                raise PickleError(f"no MARK to pop at offset {source.offset - 1}")
            start = marks.pop()
            items = stack[start:]
            del stack[start:]
            return items

        def record(module: str, name: str) -> None:
            if (module, name) not in seen:
                if len(imports) >= MAX_IMPORTS:
                    raise PickleError(f"more than {MAX_IMPORTS} distinct imports by offset {source.offset}")
                seen.add((module, name))
                imports.append((module, name))

        def push_global(module: Any, name: Any) -> None:
            if isinstance(module, str) and isinstance(name, str):
                record(module, name)
                stack.append(Global(module, name))
            else:
                record("?", "?")  # an import whose name is computed: unresolvable, dangerous
                stack.append(Global("?", "?"))

        def keep(items: list[Any], room: int = MAX_ITEMS) -> list[Any]:
            kept = items[:max(0, min(room, self.budget))]
            self.budget -= len(kept)
            return kept

        def text(size: int, encoding: str) -> Any:
            if size > MAX_TEXT:
                source.skip(size)
                return OPAQUE
            data = source.exact(size)
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                raise PickleError(f"undecodable string before offset {source.offset}") from None

        def length(size: int, fmt: str) -> int:
            value: int = struct.unpack(fmt, source.exact(size))[0]
            if value < 0:
                raise PickleError(f"negative length before offset {source.offset}")
            return value

        while True:
            start = source.offset
            if len(stack) > max_stack:
                raise PickleError(f"more than {MAX_STACK} values on the stack at offset {start}")
            byte = source.exact(1)[0]
            name = _OPCODES.get(byte)
            if name is None:
                raise PickleError(f"byte 0x{byte:02x} at offset {start} is not a pickle opcode")
            if name == "STOP":
                return
            if name == "PROTO":
                protocol = source.exact(1)[0]
                if protocol > HIGHEST_PROTOCOL:
                    raise PickleError(f"unsupported pickle protocol {protocol} at offset {start}")
            elif name == "FRAME":
                source.exact(8)
            elif name in ("GLOBAL", "INST"):
                module = source.line(MAX_LINE)[:-1].decode("utf-8", "replace")
                attribute = source.line(MAX_LINE)[:-1].decode("utf-8", "replace")
                if name == "GLOBAL":
                    push_global(module, attribute)
                else:
                    record(module, attribute)
                    stack.append(_Call(Global(module, attribute), keep(pop_mark())))
            elif name == "STACK_GLOBAL":
                attribute = pop()
                module = pop()
                push_global(module, attribute)
            elif name == "MARK":
                if len(marks) >= MAX_STACK:
                    raise PickleError(f"more than {MAX_STACK} open MARKs at offset {start}")
                marks.append(len(stack))
            elif name == "POP":
                if marks and len(stack) == marks[-1]:
                    marks.pop()  # POP of a MARK (as pickle.py allows)
                else:
                    pop()
            elif name == "POP_MARK":
                pop_mark()
            elif name == "DUP":
                value = pop()
                stack.extend((value, value))
            # Values.
            elif name == "NONE":
                stack.append(None)
            elif name in ("NEWTRUE", "NEWFALSE"):
                stack.append(name == "NEWTRUE")
            elif name == "INT":
                line = source.line(MAX_LINE)[:-1]
                try:
                    stack.append((line == b"01") if line in (b"00", b"01") else int(line))
                except ValueError:
                    raise PickleError(f"INT argument at offset {start} is not a number") from None
            elif name == "LONG":
                line = source.line(MAX_LINE)[:-1].rstrip(b"L")
                try:
                    stack.append(int(line))
                except ValueError:
                    raise PickleError(f"LONG argument at offset {start} is not a number") from None
            elif name == "BININT":
                stack.append(struct.unpack("<i", source.exact(4))[0])
            elif name == "BININT1":
                stack.append(source.exact(1)[0])
            elif name == "BININT2":
                stack.append(struct.unpack("<H", source.exact(2))[0])
            elif name in ("LONG1", "LONG4"):
                size = source.exact(1)[0] if name == "LONG1" else length(4, "<i")
                if size > 64:
                    source.skip(size)
                    stack.append(OPAQUE)
                else:
                    stack.append(int.from_bytes(source.exact(size), "little", signed=True))
            elif name == "FLOAT":
                source.line(MAX_LINE)
                stack.append(OPAQUE)
            elif name == "BINFLOAT":
                source.exact(8)
                stack.append(OPAQUE)
            elif name == "STRING":
                raw = source.line(MAX_LINE)[:-1].rstrip(b"\r")
                try:
                    stack.append(_decode_line_string(raw))
                except (ValueError, SyntaxError, MemoryError, RecursionError):
                    raise PickleError(f"STRING argument at offset {start} is not a string literal") from None
            elif name in ("BINSTRING", "SHORT_BINSTRING"):
                size = source.exact(1)[0] if name == "SHORT_BINSTRING" else length(4, "<i")
                stack.append(text(size, "latin-1"))
            elif name == "UNICODE":
                raw = source.line(MAX_LINE)[:-1]
                stack.append(raw.decode("raw-unicode-escape", "replace"))
            elif name in ("SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8"):
                size = (source.exact(1)[0] if name == "SHORT_BINUNICODE"
                        else length(4, "<I") if name == "BINUNICODE" else length(8, "<Q"))
                stack.append(text(size, "utf-8"))
            elif name in ("SHORT_BINBYTES", "BINBYTES", "BINBYTES8", "BYTEARRAY8"):
                size = (source.exact(1)[0] if name == "SHORT_BINBYTES"
                        else length(4, "<I") if name == "BINBYTES" else length(8, "<Q"))
                source.skip(size)
                stack.append(OPAQUE)
            elif name in ("NEXT_BUFFER", "READONLY_BUFFER"):
                if name == "NEXT_BUFFER":
                    stack.append(OPAQUE)
            # Containers.
            elif name in ("EMPTY_LIST", "EMPTY_DICT", "EMPTY_SET"):
                stack.append([] if name != "EMPTY_DICT" else {})
            elif name == "EMPTY_TUPLE":
                stack.append(())
            elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
                count = int(name[-1])
                stack.append(tuple(reversed([pop() for _ in range(count)])))
            elif name == "TUPLE":
                stack.append(tuple(keep(pop_mark(), MAX_STACK)))
            elif name in ("LIST", "FROZENSET"):
                stack.append(keep(pop_mark()))
            elif name == "DICT":
                items = pop_mark()
                stack.append(self._pairs({}, items))
            elif name == "APPEND":
                value = pop()
                target = pop()
                if isinstance(target, list):
                    target.extend(keep([value], MAX_ITEMS - len(target)))
                stack.append(target)
            elif name in ("APPENDS", "ADDITEMS"):
                items = pop_mark()
                target = pop()
                if isinstance(target, list):
                    target.extend(keep(items, MAX_ITEMS - len(target)))
                stack.append(target)
            elif name == "SETITEM":
                value = pop()
                key = pop()
                target = pop()
                stack.append(self._pairs(target, [key, value]))
            elif name == "SETITEMS":
                items = pop_mark()
                target = pop()
                stack.append(self._pairs(target, items))
            # Memo.
            elif name in ("PUT", "BINPUT", "LONG_BINPUT", "MEMOIZE"):
                if name == "PUT":
                    line = source.line(MAX_LINE)[:-1]
                    try:
                        index = int(line)
                    except ValueError:
                        raise PickleError(f"PUT argument at offset {start} is not a number") from None
                elif name == "BINPUT":
                    index = source.exact(1)[0]
                elif name == "LONG_BINPUT":
                    index = struct.unpack("<I", source.exact(4))[0]
                else:
                    index = len(memo)
                if not stack or (marks and len(stack) == marks[-1]):
                    raise PickleError(f"memoize of an empty stack at offset {start}")
                if len(memo) < MAX_MEMO:
                    memo[index] = stack[-1]
                elif name == "MEMOIZE":
                    memo[index] = OPAQUE
            elif name in ("GET", "BINGET", "LONG_BINGET"):
                if name == "GET":
                    line = source.line(MAX_LINE)[:-1]
                    try:
                        index = int(line)
                    except ValueError:
                        raise PickleError(f"GET argument at offset {start} is not a number") from None
                elif name == "BINGET":
                    index = source.exact(1)[0]
                else:
                    index = struct.unpack("<I", source.exact(4))[0]
                stack.append(memo.get(index, OPAQUE))
            elif name in ("EXT1", "EXT2", "EXT4"):
                source.exact({"EXT1": 1, "EXT2": 2, "EXT4": 4}[name])
                record("?", "?")  # a copyreg extension code names a global we cannot see
                stack.append(Global("?", "?"))
            # Calls.
            elif name == "REDUCE":
                args = pop()
                callee = pop()
                stack.append(_Call(callee, args))
            elif name == "NEWOBJ":
                args = pop()
                cls = pop()
                stack.append(_Call(cls, args))
            elif name == "NEWOBJ_EX":
                pop()
                args = pop()
                cls = pop()
                stack.append(_Call(cls, args))
            elif name == "OBJ":
                items = pop_mark()
                if not items:
                    raise PickleError(f"OBJ without a class at offset {start}")
                stack.append(_Call(items[0], keep(items[1:])))
            elif name == "BUILD":
                state = pop()
                target = pop()
                if isinstance(target, _Call):
                    target.state = state
                stack.append(target)
                if self.joblib and isinstance(target, _Call) and isinstance(target.callee, Global) and (
                        target.callee.module, target.callee.name) in JOBLIB_WRAPPERS:
                    self._joblib_array(target.state, start)
            elif name in ("PERSID", "BINPERSID"):
                if name == "PERSID":
                    source.line(MAX_LINE)
                else:
                    pop()
                stack.append(OPAQUE)
            else:  # pragma: no cover - every opcode of pickletools is handled above
                raise PickleError(f"opcode {name} at offset {start} is not understood")

    def _pairs(self, target: Any, items: list[Any]) -> Any:
        if len(items) % 2:
            raise PickleError("odd number of items for a dict")
        if isinstance(target, dict):
            room = min(len(items), 2 * max(0, MAX_ITEMS - len(target)), self.budget)
            room -= room % 2
            self.budget -= room
            for index in range(0, room, 2):
                key = items[index]
                if isinstance(key, (str, int, bool)) or key is None:
                    target[key] = items[index + 1]
        return target

    def _joblib_array(self, state: Any, offset: int) -> None:
        """Step over the array joblib wrote after the wrapper: padding, then raw bytes or a nested pickle."""
        if not isinstance(state, dict):
            raise PickleError(f"joblib array at offset {offset}: the wrapper's state is not readable")
        dtype = state.get("dtype")
        shape = state.get("shape")
        if not isinstance(shape, tuple) or not all(isinstance(n, int) and n >= 0 for n in shape):
            raise PickleError(f"joblib array at offset {offset}: its shape cannot be read")
        itemsize, is_object = _dtype_size(dtype)
        source = self.source
        self.result.joblib_arrays += 1
        if is_object:
            if self.depth >= MAX_NESTED:
                raise PickleError(f"pickles nested deeper than {MAX_NESTED} at offset {offset}")
            nested = Walker(source, joblib=self.joblib, depth=self.depth + 1)
            nested.result, nested.seen = self.result, self.seen  # its imports count as this stream's
            nested.walk()
            return
        if itemsize is None:
            raise PickleError(f"joblib array at offset {offset}: the size of its dtype cannot be worked out")
        if state.get("numpy_array_alignment_bytes") is not None:
            padding = source.exact(1)[0]
            source.skip(padding)
        count = 1
        for n in shape:
            count *= n
        source.skip(count * itemsize)


_SIZED_KINDS = frozenset("biufcSUVMm")


def _dtype_size(dtype: Any) -> tuple[int | None, bool]:
    """(itemsize, holds objects) of a pickled ``numpy.dtype(...)``; None when not worked out."""
    if not isinstance(dtype, _Call) or not isinstance(dtype.callee, Global) or dtype.callee.name != "dtype":
        return None, False
    args = dtype.args
    if not isinstance(args, tuple) or not args or not isinstance(args[0], str):
        return None, False
    code = args[0].lstrip("<>|=")
    if not code:
        return None, False
    if code[0] == "O":
        return None, True
    state = dtype.state
    if isinstance(state, tuple) and len(state) >= 8:
        if isinstance(state[7], int) and state[7] & 1:  # NPY_ITEM_HASOBJECT: a structured dtype with objects
            return None, True
        if isinstance(state[5], int) and state[5] > 0:
            return state[5], False
    if code[0] in _SIZED_KINDS and code[1:].isdigit():
        size = int(code[1:])
        return (size * 4 if code[0] == "U" else size), False
    return None, False


@dataclass(slots=True)
class StreamScan:
    """What a walk over consecutive pickles found; ``problem`` says where and why it had to stop."""

    imports: list[tuple[str, str]] = field(default_factory=list)
    pickles: int = 0
    joblib_arrays: int = 0
    problem: str | None = None


def scan_pickles(source: Source, *, max_pickles: int | None = None, joblib: bool = True) -> StreamScan:
    """Walk consecutive pickles until the stream ends (or ``max_pickles`` were walked).

    Bytes after the last pickle that are not another pickle are a problem: a loader that reads
    pickles one after the other (torch's legacy format does) would run them."""
    scan = StreamScan()
    seen: set[tuple[str, str]] = set()
    while max_pickles is None or scan.pickles < max_pickles:
        if scan.pickles and source.at_end():
            break
        walker = Walker(source, joblib=joblib)
        walker.result.imports, walker.seen = scan.imports, seen  # one list, so a failed walk keeps what it saw
        try:
            walker.walk()
        except (PickleError, Truncated, LimitExceeded) as error:
            scan.problem = f"pickle {scan.pickles + 1}: {error}"
            break
        except RecursionError:
            scan.problem = f"pickle {scan.pickles + 1}: nests too deeply"
            break
        finally:
            scan.joblib_arrays += walker.result.joblib_arrays
        scan.pickles += 1
    return scan
