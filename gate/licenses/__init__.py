"""Licence detection and judgement: a pure library for the ``licenses`` policy section.

:func:`detect` turns a package's raw licence metadata into a normalised SPDX expression (or an
honest "unresolved" with the reason); :func:`judge` decides whether an expression is acceptable
under allow/deny lists and denied ScanCode categories, with real AND/OR semantics. Both read
only the licence index that ``license-expression`` bundles, loaded once on first use.
"""

from gate.licenses.detect import (
    AMBIGUOUS_CLASSIFIERS,
    AMBIGUOUS_NAMES,
    CLASSIFIER_LICENSES,
    CLASSIFIERS_JOINED_BY,
    LICENSE_ALIASES,
    Detected,
    Origin,
    detect,
    from_override,
)
from gate.licenses.judge import Acceptance, Failure, Judgement, Problem, judge
from gate.licenses.spdx import (
    CATEGORIES,
    Expression,
    InvalidExpression,
    category_of,
    normalise_id,
    parse_expression,
)

__all__ = [
    "AMBIGUOUS_CLASSIFIERS",
    "AMBIGUOUS_NAMES",
    "CATEGORIES",
    "CLASSIFIERS_JOINED_BY",
    "CLASSIFIER_LICENSES",
    "LICENSE_ALIASES",
    "Acceptance",
    "Detected",
    "Expression",
    "Failure",
    "InvalidExpression",
    "Judgement",
    "Origin",
    "Problem",
    "category_of",
    "detect",
    "from_override",
    "judge",
    "normalise_id",
    "parse_expression",
]
