"""Neutralise hostile strings. Package metadata and advisory text are written by strangers:
in a PR comment they must not inject links, images, HTML, mentions or table cells, and in a
CI log they must not forge workflow commands."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
# Characters with an inline meaning in CommonMark/GFM get a backslash; the ones that start
# HTML, entities, autolinks, mentions, issue references or table cells become entities.
_BACKSLASH = set("\\`*_[]()!~")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "@": "&#64;",
             ":": "&#58;", "#": "&#35;", "|": "&#124;"}


def one_line(text: str, limit: int | None = None) -> str:
    """Control characters and line breaks become single spaces; long text is cut with an ellipsis."""
    flat = _CONTROL.sub(" ", text)
    if limit is not None and len(flat) > limit:
        flat = flat[: limit - 1].rstrip() + "…"
    return flat


def markdown_text(value: object, limit: int | None = None) -> str:
    """Escape ``value`` for inline use in GitHub/GitLab Markdown (and the HTML it allows)."""
    out = []
    for char in one_line(str(value), limit):
        if char in _BACKSLASH:
            out.append("\\" + char)
        else:
            out.append(_ENTITIES.get(char, char))
    return "".join(out)


def terminal_text(value: object, limit: int | None = None) -> str:
    """For logs: one line, no control characters (no ANSI escapes, no line breaks), so a hostile
    string can never start a line. Workflow commands are defused both ways the GitHub runner
    reads them: a leading ``::`` gets a visible prefix (a space would not do: the runner trims
    leading whitespace), and the legacy ``##[command]`` opener, which it finds anywhere in a
    line, is broken up."""
    flat = one_line(str(value), limit)
    while "##[" in flat:
        flat = flat.replace("##[", "# #[")
    return "> " + flat if flat.lstrip().startswith("::") else flat


_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def advisory_link(identifier: str) -> str | None:
    """The osv.dev page of an advisory, only for IDs made of safe characters."""
    if _SAFE_ID.match(identifier):
        return f"https://osv.dev/vulnerability/{identifier}"
    return None
