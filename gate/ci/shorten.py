"""Cut ``report.md`` down to a size limit (a PR comment's 65,536 characters, a step summary's
1 MiB) without losing what matters most.

What stays: the headline and counts, every section title, and the blocking tables' rows in the
report's order (most severe first) as far as they fit, each cut table saying how many rows it
left out. What goes: the collapsed sections (waived, warnings, advisory summaries), totals and
notes. A notice says so and links the full report. Cuts fall between lines only, so an escaped
string is never split into half an entity."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

_SAFE_URL_CHARACTERS = ":/?#@!$&*+,;=%-._~"


def markdown_link_target(url: str | None) -> str | None:
    """``url`` fit for ``[text](url)``: http(s) only, with every character that could end the link
    or start markup percent-encoded; None for anything else."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or re.search(r"\s", url):
        return None
    return quote(url, safe=_SAFE_URL_CHARACTERS)


def notice(link: str | None) -> str:
    target = markdown_link_target(link)
    where = f"[the run's artifacts]({target})" if target else "the job's artifacts"
    return (f"**✂️ Shortened: the full report is too long to show here.** Blocking rows that did not fit, "
            f"waivers, warnings and advisory summaries are in `report.md` among {where}.")


FIRST_ROWS = 5  # every cut table shows at least this many rows (room allowing) before any gets more


@dataclass
class _Table:
    head: list[str]
    rows: list[str]
    kept: int = 0


def _main_part(lines: list[str]) -> tuple[list[str], str | None]:
    """The lines before the first collapsed section or the totals, and the closing provenance line."""
    end = len(lines)
    for index, line in enumerate(lines):
        if line.startswith("<details>") or line.startswith("### Totals"):
            end = index
            break
    provenance = next((line for line in reversed(lines) if line.startswith("<sub>")), None)
    return lines[:end], provenance


def _plan(lines: list[str]) -> list[str | _Table]:
    plan: list[str | _Table] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("|") and index + 1 < len(lines) and lines[index + 1].startswith("| ---"):
            end = index + 2
            while end < len(lines) and lines[end].startswith("|"):
                end += 1
            plan.append(_Table(head=lines[index:index + 2], rows=lines[index + 2:end]))
            index = end
        else:
            plan.append(line)
            index += 1
    return plan


def _render(plan: list[str | _Table], *, reserve: bool) -> list[str]:
    """The lines of ``plan``; with ``reserve``, as long as it can get with no rows (the budget's base)."""
    out: list[str] = []
    for part in plan:
        if isinstance(part, str):
            out.append(part)
            continue
        omitted = len(part.rows) if reserve else len(part.rows) - part.kept
        if part.kept or reserve:
            out.extend(part.head)
            out.extend(part.rows[:part.kept])
            if omitted:
                out.append("")  # a blank line ends the table: a text line right after it would become a row
        if omitted:
            rows = "row" if omitted == 1 else "rows"
            more = part.kept or reserve
            out.append(f"_… {omitted} more {rows} in the full report._" if more
                       else f"_{omitted} {rows} in the full report._")
    return out


def shorten_report(report: str, *, limit: int, link: str | None,
                   measure: Callable[[str], int] = len) -> str:
    """``report`` itself when ``measure(report) <= limit``, else the shortened version (never longer)."""
    if measure(report) <= limit:
        return report
    main, provenance = _main_part(report.split("\n"))
    while main and not main[-1].strip():
        main.pop()
    plan = _plan(main)
    tables = [part for part in plan if isinstance(part, _Table)]
    ending = ["", notice(link)] + (["", provenance] if provenance else []) + [""]
    budget = limit - measure("\n".join(_render(plan, reserve=True) + ending))
    # The first rows of every table, then the rest in the report's order, until a row does not fit.
    for share in (FIRST_ROWS, None):
        for table in tables:
            while table.kept < len(table.rows) and (share is None or table.kept < share):
                cost = measure(table.rows[table.kept]) + 1
                if cost > budget:
                    break
                table.kept += 1
                budget -= cost
            else:
                continue
            if share is None:
                break
    text = "\n".join(_render(plan, reserve=False) + ending)
    if budget >= 0 and measure(text) <= limit:
        return text
    # Pathological: not even the titles fit. The headline and the notice, cut to the limit.
    headline = next((line for line in main if line.startswith("## ")), "")
    text = "\n".join([headline, "", notice(link), ""])
    while measure(text) > limit:
        text = text[: max(0, len(text) - max(1, measure(text) - limit))]
    return text
