"""Renderers: each reads a Decision and nothing else."""

from gate.report.markdown import render_markdown
from gate.report.result import SCHEMA_VERSION, result_document
from gate.report.terminal import summary_lines

__all__ = ["SCHEMA_VERSION", "render_markdown", "result_document", "summary_lines"]
