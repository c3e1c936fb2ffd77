"""One sequential pass over a file: every byte is hashed once, in order, as the scanner pulls it.

:class:`HashingFile` sits directly on the file and feeds sha256 with each block it reads;
:class:`Source` is the buffered reader the scanners use (exact reads, lines, skips, peeks). A
scanner that does not need the rest of a file (a safetensors header, a legacy torch checkpoint's
raw storages) leaves it to :meth:`HashingFile.drain`, which hashes it in large blocks without
keeping it. Large byte strings inside a pickle are skipped the same way, so a 1 GB tensor inside
a pickle costs a hash, not a copy."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import BinaryIO, Protocol

BLOCK = 1 << 22  # 4 MiB: large enough for hashlib to run at full speed, small enough to stay in cache


class Truncated(Exception):
    """The stream ended inside a structure that announced more bytes."""


class LimitExceeded(Exception):
    """A stream grew past the bound set for it (a decompression bomb, a runaway line)."""


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class HashingFile:
    """A file read front to back exactly once; sha256 of everything read, and the count."""

    def __init__(self, handle: BinaryIO) -> None:
        self._handle = handle
        self._hash = hashlib.sha256()
        self.consumed = 0

    def read(self, size: int = -1, /) -> bytes:
        data = self._handle.read(size if size >= 0 else BLOCK)
        if data:
            self._hash.update(data)
            self.consumed += len(data)
        return data

    def drain(self) -> None:
        """Hash what is left, block by block, keeping nothing."""
        buffer = bytearray(BLOCK)
        view = memoryview(buffer)
        readinto = self._handle.readinto  # type: ignore[attr-defined]
        update = self._hash.update
        while True:
            count = readinto(buffer)
            if not count:
                return
            update(view[:count])
            self.consumed += count

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


class Source:
    """Buffered, forward-only reads for the scanners, with the absolute offset for messages.

    ``limit`` bounds how many bytes may come out of the stream (decompressed data)."""

    def __init__(self, raw: Readable, *, limit: int | None = None) -> None:
        self._raw = raw
        self._buffer = b""
        self._pos = 0
        self._base = 0  # offset of _buffer[0] in the stream
        self._eof = False
        self._limit = limit

    @property
    def offset(self) -> int:
        return self._base + self._pos

    def _fill(self, need: int) -> bool:
        """Make ``need`` bytes available after the position; False when the stream ends first."""
        while len(self._buffer) - self._pos < need:
            if self._eof:
                return False
            chunk = self._raw.read(max(BLOCK, need - (len(self._buffer) - self._pos)))
            if not chunk:
                self._eof = True
                return False
            self._base += self._pos
            self._buffer = self._buffer[self._pos:] + chunk if self._pos < len(self._buffer) else chunk
            self._pos = 0
            if self._limit is not None and self._base + len(self._buffer) > self._limit:
                raise LimitExceeded(f"more than {self._limit} bytes")
        return True

    def peek(self, size: int) -> bytes:
        self._fill(size)
        return self._buffer[self._pos:self._pos + size]

    def at_end(self) -> bool:
        return not self._fill(1)

    def read(self, size: int = -1, /) -> bytes:
        """Up to ``size`` bytes (fewer only at the end): lets a decompressor read from a Source."""
        if size < 0:
            size = BLOCK
        self._fill(min(size, BLOCK))
        data = self._buffer[self._pos:self._pos + size]
        self._pos += len(data)
        return data

    def exact(self, size: int) -> bytes:
        if not self._fill(size):
            raise Truncated(f"needed {size} bytes at offset {self.offset}, the stream ends first")
        data = self._buffer[self._pos:self._pos + size]
        self._pos += size
        return data

    def line(self, limit: int) -> bytes:
        """Bytes up to and including the next newline (at most ``limit``)."""
        start = self.offset
        while True:
            end = self._buffer.find(b"\n", self._pos)
            if end >= 0:
                if end + 1 - self._pos > limit:
                    raise LimitExceeded(f"a line longer than {limit} bytes at offset {start}")
                data = self._buffer[self._pos:end + 1]
                self._pos = end + 1
                return data
            if len(self._buffer) - self._pos > limit:
                raise LimitExceeded(f"a line longer than {limit} bytes at offset {start}")
            if not self._fill(len(self._buffer) - self._pos + 1):
                raise Truncated(f"a line at offset {start} has no end")

    def skip(self, size: int) -> None:
        """Consume ``size`` bytes without keeping them (they are still hashed below)."""
        available = len(self._buffer) - self._pos
        if size <= available:
            self._pos += size
            return
        left = size - available
        self._base += len(self._buffer)
        self._buffer = b""
        self._pos = 0
        while left > 0:
            chunk = self._raw.read(min(left, BLOCK))
            if not chunk:
                self._eof = True
                raise Truncated(f"needed {left} more bytes at offset {self._base}, the stream ends first")
            self._base += len(chunk)
            left -= len(chunk)
            if self._limit is not None and self._base > self._limit:
                raise LimitExceeded(f"more than {self._limit} bytes")

    def rest(self) -> None:
        """Consume everything left (counted against the limit, hashed below)."""
        while self._fill(1):
            self._base += len(self._buffer)
            self._buffer = b""
            self._pos = 0

    def chunks(self) -> Iterator[bytes]:
        """Consume the rest as blocks (what is buffered first)."""
        if self._pos < len(self._buffer):
            yield self._buffer[self._pos:]
        self._base += len(self._buffer)
        self._buffer = b""
        self._pos = 0
        while True:
            chunk = self._raw.read(BLOCK)
            if not chunk:
                self._eof = True
                return
            self._base += len(chunk)
            yield chunk
