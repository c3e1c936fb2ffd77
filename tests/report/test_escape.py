from __future__ import annotations

import pytest

from gate.report.escape import advisory_link, markdown_text, one_line, terminal_text


@pytest.mark.parametrize(("hostile", "escaped"), [
    ("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert\\(1\\)&gt;"),
    ("[click](https://evil.example)", "\\[click\\]\\(https&#58;//evil.example\\)"),
    ("![x](http://e/x.png)", "\\!\\[x\\]\\(http&#58;//e/x.png\\)"),
    ("a | b", "a &#124; b"),
    ("ping @org/security-team", "ping &#64;org/security-team"),
    ("see #1234", "see &#35;1234"),
    ("**bold** _it_ `code` ~~s~~", "\\*\\*bold\\*\\* \\_it\\_ \\`code\\` \\~\\~s\\~\\~"),
    ("line1\nline2\r\n\tline3", "line1 line2 line3"),
    ("&amp; 'q' \"dq\"", "&amp;amp; &#39;q&#39; &quot;dq&quot;"),
    ("back\\slash", "back\\\\slash"),
])
def test_markdown_text(hostile: str, escaped: str) -> None:
    assert markdown_text(hostile) == escaped


def test_one_line_cuts_long_text() -> None:
    assert one_line("x" * 10, limit=5) == "xxxx…"


def test_terminal_text_defuses_workflow_commands_and_ansi() -> None:
    # no line break survives, so "::" can never start a log line
    assert terminal_text("\x1b[31mred\x1b[0m\n::set-output name=x::y") == " [31mred [0m ::set-output name=x::y"
    # the runner trims leading whitespace before it looks for "::", so the prefix must be visible
    assert terminal_text("::error::forged") == "> ::error::forged"
    assert terminal_text(" \u2003::add-mask::x") == ">  \u2003::add-mask::x"
    # the legacy form is read anywhere in a line
    assert terminal_text("x ##[set-output name=decision;]pass ###[add-mask]y") == \
        "x # #[set-output name=decision;]pass ## #[add-mask]y"


def test_advisory_link_only_for_safe_ids() -> None:
    assert advisory_link("GHSA-x84v-xcm2-53pg") == "https://osv.dev/vulnerability/GHSA-x84v-xcm2-53pg"
    assert advisory_link("X](javascript:alert(1))") is None
