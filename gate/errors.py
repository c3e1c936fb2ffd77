"""The one exception root of the gate.

Every error the gate raises on purpose derives from :class:`GateError` and says *where*:
the file, and the line or key path inside it, so that a CI log line is enough to fix the
input. The CLI maps each family to its exit code; nothing else in the package exits.
"""

from __future__ import annotations

from pathlib import Path


class GateError(Exception):
    """Root of every deliberate gate error; ``where`` prefixes the message."""

    def __init__(self, message: str, *, where: str | Path | None = None, line: int | None = None,
                 key_path: str | None = None) -> None:
        self.message = message
        self.where = str(where) if where is not None else None
        self.line = line
        self.key_path = key_path
        super().__init__(self.diagnostic())

    def diagnostic(self) -> str:
        """One line: ``file:line: key.path: message``."""
        prefix = ""
        if self.where is not None:
            prefix = self.where
            if self.line is not None:
                prefix += f":{self.line}"
            prefix += ": "
        if self.key_path:
            prefix += f"{self.key_path}: "
        return prefix + self.message


class InputError(GateError):
    """The candidate environment or lockfile is unreadable or malformed."""


class PolicyError(GateError):
    """A policy file is unreadable, malformed or fails its schema."""


class AdvisoryDataError(GateError):
    """The advisory database is missing, corrupt, or older than the policy allows."""


class SignatureError(GateError):
    """A record's signature or a signing key is invalid or missing."""


class ServiceError(GateError):
    """A service the check needs (index, CI API, OSV download) could not be reached."""
