"""Which licence a package declares, as a normalised SPDX expression, or an honest "unknown".

Sources, in order (the first one present decides; see :func:`detect`):

1. PEP 639 ``License-Expression``: authoritative when present. Invalid means unresolved, with
   no fall-back: the package tried to be precise and failed, and reading its classifiers
   instead would be a guess.
2. The legacy ``License`` field: a valid SPDX expression, or an entry of :data:`LICENSE_ALIASES`
   (common spellings that name exactly one licence). Anything else (ambiguous names such as
   "BSD", licence texts, "see LICENSE") does not resolve, and the classifiers are tried.
3. The ``License ::`` classifiers, through :data:`CLASSIFIER_LICENSES`. Several licence
   classifiers are joined with ``AND`` (see :data:`CLASSIFIERS_JOINED_BY`); one that does not
   map leaves the whole declaration unresolved.

Conda packages have one source, the recipe's ``license`` string (``LicenseFields.text``): an
SPDX expression, else an alias, else unresolved.

Nothing here guesses. Where metadata names a licence family without its version or variant,
the answer is "unresolved" with the reason, and the policy's ``unknown`` setting (or a
per-package override, :func:`from_override`) decides.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from gate.licenses.spdx import InvalidExpression, parse_expression
from gate.model import LicenseFields


class Origin(enum.StrEnum):
    LICENSE_EXPRESSION = "license-expression"
    LICENSE_FIELD = "license-field"
    CLASSIFIERS = "classifiers"
    CONDA_LICENSE = "conda-license"
    OVERRIDE = "override"


@dataclass(frozen=True, kw_only=True, slots=True)
class Detected:
    """The outcome of detection, with what it rests on.

    ``origin`` is the source the outcome comes from: when resolved, the source that resolved it;
    when not, the highest-precedence source the package has (``None`` only when it has no
    licence metadata at all). ``raw`` is that source's value, shortened when it is a licence
    text, for the report to quote. ``reason`` says why nothing resolved."""

    expression: str | None
    origin: Origin | None
    raw: str | None
    reason: str | None = None

    @property
    def resolved(self) -> bool:
        return self.expression is not None


# A License field (or conda licence string) longer than this, or spanning lines, is a licence
# text, not a name. Texts are not recognised: a text's first line ("BSD 3-Clause License") can
# head a modified licence, and telling them apart is the job of a licence scanner, not a gate.
MAX_NAME_LENGTH = 200

# Values that old tools wrote for "not given"; treated as an absent field.
_ABSENT = frozenset({"", "unknown", "none"})


def _key(value: str) -> str:
    """Alias-table key: whitespace collapsed, case folded."""
    return " ".join(value.split()).casefold()


def _aliases(table: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {_key(spelling): spdx for spdx, spellings in table.items() for spelling in spellings}


# Non-SPDX spellings of a licence name that name exactly one licence, as seen in the License
# field of PyPI releases and in conda recipes. Matching is on the whole field (whitespace and
# case aside); nothing is matched inside longer text.
#
# - An unversioned Apache name ("Apache", "Apache Software License") is Apache-2.0: Apache-1.0
#   and 1.1 predate PyPI and the ASF has licensed everything under 2.0 since 2004; the trove
#   classifier of the same name is read the same way.
# - "PSF"/"Python Software Foundation License" is PSF-2.0, the only licence the PSF publishes
#   under that name (packages that adapted its text, such as matplotlib, still read as PSF-2.0:
#   a policy that allows PSF-2.0 allows those adaptations).
# - "GPLv2"/"GPLv3" read literally as the -only ids; "or later" only when the spelling says so
#   ("+", "or later").
# - "Public Domain" is ScanCode's public-domain key, so a policy can allow or deny it by its
#   category ("Public Domain"), the same reading as the "License :: Public Domain" classifier.
LICENSE_ALIASES: dict[str, str] = _aliases({
    "Apache-2.0": (
        "Apache", "Apache License", "Apache Software License",
        "Apache 2", "Apache 2.0", "Apache-2", "Apache2", "Apache v2", "Apache 2.0 License",
        "Apache License 2.0", "Apache License (2.0)", "Apache License v2", "Apache License v2.0",
        "Apache License, Version 2.0", "Apache License Version 2.0", "The Apache License, Version 2.0",
        "Apache Software License 2.0", "Apache Software License, Version 2.0",
        "Apache Software License Version 2.0", "Apache-2.0 License", "ASL 2", "ASL 2.0", "ASL-2.0",
    ),
    "MIT": (
        "MIT License", "MIT Licence", "MIT license", "The MIT License", "The MIT License (MIT)", "Expat",
        "Expat License", "MIT/Expat",
    ),
    "BSD-3-Clause": (
        "BSD-3", "BSD 3", "BSD 3-Clause", "BSD 3 Clause", "BSD 3-Clause License", "BSD-3-Clause License",
        "BSD (3-Clause)", "3-Clause BSD", "3-Clause BSD License", "New BSD", "New BSD License", "Modified BSD",
        "Modified BSD License", "Revised BSD", "Revised BSD License",
    ),
    "BSD-2-Clause": (
        "BSD-2", "BSD 2", "BSD 2-Clause", "BSD 2 Clause", "BSD 2-Clause License", "BSD-2-Clause License",
        "BSD (2-Clause)", "2-Clause BSD", "2-Clause BSD License", "Simplified BSD", "Simplified BSD License",
    ),
    "ISC": ("ISC License", "ISC Licence", "ISC License (ISCL)", "ISCL"),
    "PSF-2.0": ("PSF", "PSF License", "PSFL", "PSF-2", "Python Software Foundation License"),
    "MPL-2.0": (
        "MPL 2", "MPL 2.0", "MPL2", "MPL-2", "MPL v2", "MPLv2", "MPLv2.0", "Mozilla Public License 2.0",
        "Mozilla Public License 2.0 (MPL 2.0)", "Mozilla Public License, Version 2.0",
    ),
    "GPL-2.0-only": ("GPLv2", "GPL v2", "GPL-2", "GPL 2", "GPL 2.0", "GNU GPLv2", "GNU GPL v2",
                     "GNU General Public License v2 (GPLv2)"),
    "GPL-2.0-or-later": ("GPLv2+", "GPL v2+", "GPL-2+", "GPL 2+", "GPL 2.0+", "GPLv2 or later",
                         "GNU General Public License v2 or later (GPLv2+)"),
    "GPL-3.0-only": ("GPLv3", "GPL v3", "GPL-3", "GPL 3", "GPL 3.0", "GNU GPLv3", "GNU GPL v3",
                     "GNU General Public License v3 (GPLv3)"),
    "GPL-3.0-or-later": ("GPLv3+", "GPL v3+", "GPL-3+", "GPL 3+", "GPL 3.0+", "GPLv3 or later", "GNU GPLv3+",
                         "GNU General Public License v3 or later (GPLv3+)"),
    "LGPL-2.1-only": ("LGPLv2.1", "LGPL v2.1", "LGPL 2.1"),
    "LGPL-2.1-or-later": ("LGPLv2.1+", "LGPL v2.1+", "LGPL 2.1+", "LGPLv2.1 or later"),
    "LGPL-3.0-only": ("LGPLv3", "LGPL v3", "LGPL-3", "LGPL 3", "LGPL 3.0", "GNU LGPLv3", "GNU LGPL v3",
                      "GNU Lesser General Public License v3 (LGPLv3)"),
    "LGPL-3.0-or-later": ("LGPLv3+", "LGPL v3+", "LGPL-3+", "LGPL 3+", "LGPL 3.0+", "LGPLv3 or later",
                          "GNU LGPLv3+", "GNU Lesser General Public License v3 or later (LGPLv3+)"),
    "AGPL-3.0-only": ("AGPLv3", "AGPL v3", "AGPL-3", "AGPL 3", "GNU AGPLv3", "GNU Affero General Public License v3"),
    "AGPL-3.0-or-later": ("AGPLv3+", "AGPL v3+", "AGPL-3+", "AGPL 3+", "GNU AGPLv3+",
                          "GNU Affero General Public License v3 or later (AGPLv3+)"),
    "Unlicense": ("The Unlicense", "The Unlicense (Unlicense)"),
    "CC0-1.0": ("CC0", "CC0 1.0", "CC0 1.0 Universal", "CC0 1.0 Universal (CC0 1.0) Public Domain Dedication"),
    "BSL-1.0": ("Boost", "Boost License", "Boost Software License", "Boost Software License 1.0",
                "Boost Software License 1.0 (BSL-1.0)"),
    "Zlib": ("zlib License", "zlib/libpng", "zlib/libpng License"),
    "ZPL-2.1": ("ZPL 2.1", "ZPL v2.1", "Zope Public License 2.1"),
    "ZPL-2.0": ("ZPL 2.0", "ZPL v2.0", "Zope Public License 2.0"),
    "HPND": ("Historical Permission Notice and Disclaimer", "Historical Permission Notice and Disclaimer (HPND)"),
    "EPL-1.0": ("EPL 1.0", "Eclipse Public License 1.0"),
    "EPL-2.0": ("EPL 2.0", "Eclipse Public License 2.0"),
    "LicenseRef-scancode-public-domain": ("Public Domain", "Public-Domain"),
})

# Names that do not resolve, with the reason the report gives. Anything else that is neither SPDX
# nor an alias also stays unresolved; these only get a clearer reason.
_NO_VERSION = "it names a licence family without its version"
AMBIGUOUS_NAMES: dict[str, str] = {
    **dict.fromkeys(map(_key, ("BSD", "BSD License", "BSD Licence", "BSD-like", "BSD-style", "BSD style",
                               "BSD-License")),
                    "BSD names several licences (BSD-2-Clause, BSD-3-Clause, BSD-4-Clause...)"),
    **dict.fromkeys(map(_key, ("GPL", "GNU GPL", "GPL License", "GNU General Public License",
                               "GNU General Public License (GPL)", "LGPL", "GNU LGPL",
                               "GNU Lesser General Public License",
                               "GNU Library or Lesser General Public License (LGPL)", "AGPL", "GNU AGPL",
                               "MPL", "Mozilla Public License", "Artistic", "Artistic License", "EPL",
                               "Eclipse Public License", "ZPL", "Zope Public License", "EUPL", "AFL",
                               "Academic Free License", "CC-BY", "Creative Commons")),
                    _NO_VERSION),
    **dict.fromkeys(map(_key, ("LGPLv2", "LGPL v2", "LGPL-2", "LGPL 2", "LGPLv2+", "LGPL v2+", "LGPL-2+",
                               "LGPL 2+")),
                    "LGPL v2 is either LGPL-2.0 (\"Library\") or LGPL-2.1 (\"Lesser\")"),
    **dict.fromkeys(map(_key, ("Python", "Python License", "Python Software License")),
                    "Python names several licences (PSF-2.0, Python-2.0, CNRI-Python)"),
    **dict.fromkeys(map(_key, ("Dual License", "Dual Licensed", "Dual-licensed", "Multiple", "Other", "Custom")),
                    "it names no licence"),
    **dict.fromkeys(map(_key, ("Proprietary", "Commercial", "Other/Proprietary License", "All Rights Reserved",
                               "Proprietary License", "Commercial License")),
                    "it declares proprietary or other terms that have no SPDX id"),
}

# Trove classifiers (https://pypi.org/classifiers/, the ``License ::`` subtree) that name exactly
# one SPDX licence. Version-less families are absent on purpose and listed in
# AMBIGUOUS_CLASSIFIERS; "Apache Software License" and "Python Software Foundation License" read
# as in LICENSE_ALIASES (Apache-2.0, PSF-2.0). A classifier that names one version of a licence
# that only ever had one (CPL, IPL, SPL, QPL, NOKOS) maps to that version.
CLASSIFIER_LICENSES: dict[str, str] = {
    "License :: CC0 1.0 Universal (CC0 1.0) Public Domain Dedication": "CC0-1.0",
    "License :: CeCILL-B Free Software License Agreement (CECILL-B)": "CECILL-B",
    "License :: CeCILL-C Free Software License Agreement (CECILL-C)": "CECILL-C",
    "License :: Nokia Open Source License (NOKOS)": "Nokia",
    "License :: Public Domain": "LicenseRef-scancode-public-domain",
    "License :: OSI Approved :: Apache Software License": "Apache-2.0",
    "License :: OSI Approved :: Attribution Assurance License": "AAL",
    "License :: OSI Approved :: Blue Oak Model License (BlueOak-1.0.0)": "BlueOak-1.0.0",
    "License :: OSI Approved :: Boost Software License 1.0 (BSL-1.0)": "BSL-1.0",
    "License :: OSI Approved :: CEA CNRS Inria Logiciel Libre License, version 2.1 (CeCILL-2.1)": "CECILL-2.1",
    "License :: OSI Approved :: CMU License (MIT-CMU)": "MIT-CMU",
    "License :: OSI Approved :: Common Development and Distribution License 1.0 (CDDL-1.0)": "CDDL-1.0",
    "License :: OSI Approved :: Common Public License": "CPL-1.0",
    "License :: OSI Approved :: Eclipse Public License 1.0 (EPL-1.0)": "EPL-1.0",
    "License :: OSI Approved :: Eclipse Public License 2.0 (EPL-2.0)": "EPL-2.0",
    "License :: OSI Approved :: Educational Community License, Version 2.0 (ECL-2.0)": "ECL-2.0",
    "License :: OSI Approved :: European Union Public Licence 1.0 (EUPL 1.0)": "EUPL-1.0",
    "License :: OSI Approved :: European Union Public Licence 1.1 (EUPL 1.1)": "EUPL-1.1",
    "License :: OSI Approved :: European Union Public Licence 1.2 (EUPL 1.2)": "EUPL-1.2",
    "License :: OSI Approved :: GNU Affero General Public License v3": "AGPL-3.0-only",
    "License :: OSI Approved :: GNU Affero General Public License v3 or later (AGPLv3+)": "AGPL-3.0-or-later",
    "License :: OSI Approved :: GNU General Public License v2 (GPLv2)": "GPL-2.0-only",
    "License :: OSI Approved :: GNU General Public License v2 or later (GPLv2+)": "GPL-2.0-or-later",
    "License :: OSI Approved :: GNU General Public License v3 (GPLv3)": "GPL-3.0-only",
    "License :: OSI Approved :: GNU General Public License v3 or later (GPLv3+)": "GPL-3.0-or-later",
    "License :: OSI Approved :: GNU Lesser General Public License v3 (LGPLv3)": "LGPL-3.0-only",
    "License :: OSI Approved :: GNU Lesser General Public License v3 or later (LGPLv3+)": "LGPL-3.0-or-later",
    "License :: OSI Approved :: Historical Permission Notice and Disclaimer (HPND)": "HPND",
    "License :: OSI Approved :: IBM Public License": "IPL-1.0",
    "License :: OSI Approved :: ISC License (ISCL)": "ISC",
    "License :: OSI Approved :: MIT License": "MIT",
    "License :: OSI Approved :: MIT No Attribution License (MIT-0)": "MIT-0",
    "License :: OSI Approved :: MirOS License (MirOS)": "MirOS",
    "License :: OSI Approved :: Motosoto License": "Motosoto",
    "License :: OSI Approved :: Mozilla Public License 1.0 (MPL)": "MPL-1.0",
    "License :: OSI Approved :: Mozilla Public License 1.1 (MPL 1.1)": "MPL-1.1",
    "License :: OSI Approved :: Mozilla Public License 2.0 (MPL 2.0)": "MPL-2.0",
    "License :: OSI Approved :: Mulan Permissive Software License v2 (MulanPSL-2.0)": "MulanPSL-2.0",
    "License :: OSI Approved :: NASA Open Source Agreement v1.3 (NASA-1.3)": "NASA-1.3",
    "License :: OSI Approved :: Nethack General Public License": "NGPL",
    "License :: OSI Approved :: Nokia Open Source License": "Nokia",
    "License :: OSI Approved :: Open Group Test Suite License": "OGTSL",
    "License :: OSI Approved :: Open Software License 3.0 (OSL-3.0)": "OSL-3.0",
    "License :: OSI Approved :: PostgreSQL License": "PostgreSQL",
    "License :: OSI Approved :: Python License (CNRI Python License)": "CNRI-Python",
    "License :: OSI Approved :: Python Software Foundation License": "PSF-2.0",
    "License :: OSI Approved :: Qt Public License (QPL)": "QPL-1.0",
    "License :: OSI Approved :: Ricoh Source Code Public License": "RSCPL",
    "License :: OSI Approved :: SIL Open Font License 1.1 (OFL-1.1)": "OFL-1.1",
    "License :: OSI Approved :: Sleepycat License": "Sleepycat",
    "License :: OSI Approved :: Sun Public License": "SPL-1.0",
    "License :: OSI Approved :: The Unlicense (Unlicense)": "Unlicense",
    "License :: OSI Approved :: Universal Permissive License (UPL)": "UPL-1.0",
    "License :: OSI Approved :: University of Illinois/NCSA Open Source License": "NCSA",
    "License :: OSI Approved :: Vovida Software License 1.0": "VSL-1.0",
    "License :: OSI Approved :: Zero-Clause BSD (0BSD)": "0BSD",
    "License :: OSI Approved :: zlib/libpng License": "Zlib",
}

AMBIGUOUS_CLASSIFIERS: dict[str, str] = {
    "License :: OSI Approved :: BSD License": "it does not say which BSD licence (BSD-2-Clause, BSD-3-Clause...)",
    "License :: OSI Approved :: GNU General Public License (GPL)": "it gives no GPL version",
    "License :: OSI Approved :: GNU Library or Lesser General Public License (LGPL)": "it gives no LGPL version",
    "License :: OSI Approved :: GNU Lesser General Public License v2 (LGPLv2)":
        "LGPL v2 is either LGPL-2.0 (\"Library\") or LGPL-2.1 (\"Lesser\")",
    "License :: OSI Approved :: GNU Lesser General Public License v2 or later (LGPLv2+)":
        "LGPL v2 is either LGPL-2.0 (\"Library\") or LGPL-2.1 (\"Lesser\")",
    "License :: OSI Approved :: GNU Free Documentation License (FDL)": "it gives no GFDL version",
    "License :: OSI Approved :: Academic Free License (AFL)": "it gives no AFL version",
    "License :: OSI Approved :: Apple Public Source License": "it gives no APSL version",
    "License :: OSI Approved :: Artistic License": "it does not say Artistic-1.0 or Artistic-2.0",
    "License :: OSI Approved :: Eiffel Forum License": "it gives no EFL version",
    "License :: Eiffel Forum License (EFL)": "it gives no EFL version",
    "License :: Netscape Public License (NPL)": "it gives no NPL version",
    "License :: OSI Approved :: W3C License": "SPDX has several W3C licences",
    "License :: OSI Approved :: Zope Public License": "it gives no ZPL version",
    "License :: Aladdin Free Public License (AFPL)": "it gives no AFPL version",
    "License :: Repoze Public License": "it has no SPDX id",
    "License :: GUST Font License 1.0": "it has no SPDX id",
    "License :: GUST Font License 2006-09-30": "it has no SPDX id",
    "License :: Other/Proprietary License": "it declares proprietary or other terms that have no SPDX id",
    "License :: Free For Educational Use": "it names terms, not a licence",
    "License :: Free For Home Use": "it names terms, not a licence",
    "License :: Free To Use But Restricted": "it names terms, not a licence",
    "License :: Free for non-commercial use": "it names terms, not a licence",
    "License :: Freely Distributable": "it names terms, not a licence",
    "License :: Freeware": "it names terms, not a licence",
    "License :: Private Use": "it names terms, not a licence",
}

# Parents that say only which list a licence is on; ignored next to a specific classifier.
_UNINFORMATIVE_CLASSIFIERS = frozenset({"License :: OSI Approved", "License :: DFSG approved"})

# Several licence classifiers on one package: they may be alternatives (dual licensing) or all
# apply (bundled code), and classifiers cannot say which. AND is the reading that cannot pass a
# package under a licence it does not offer: a dual-licensed package whose alternatives include
# a denied licence is blocked and needs an override, where OR would silently pass a package
# that bundles denied code.
CLASSIFIERS_JOINED_BY = "AND"


def _excerpt(value: str, limit: int = 120) -> str:
    """A licence text shortened for a report line: its first line, and how long the whole is."""
    stripped = value.strip()
    first = stripped.splitlines()[0] if stripped else ""
    if first == stripped and len(first) <= limit:
        return first
    cut = "..." if len(first) > limit else ""
    return f"{first[:limit]}{cut} [text of {len(stripped)} characters]"


@dataclass(frozen=True, slots=True)
class _Attempt:
    expression: str | None
    problem: str | None  # why this source did not resolve


def _from_expression(value: str) -> _Attempt:
    try:
        return _Attempt(parse_expression(value).text, None)
    except InvalidExpression as error:
        return _Attempt(None, f"is not a valid SPDX expression ({error})")


def _from_name(value: str) -> _Attempt:
    """A License field or conda licence string: SPDX, else an alias, else unresolved."""
    stripped = value.strip()
    lines = len(stripped.splitlines())
    if lines > 1 or len(stripped) > MAX_NAME_LENGTH:
        return _Attempt(None, f"holds a licence text ({lines} lines, {len(stripped)} characters), not a licence id")
    attempt = _from_expression(stripped)
    if attempt.expression is not None:
        return attempt
    key = _key(stripped)
    if key in LICENSE_ALIASES:
        return _Attempt(parse_expression(LICENSE_ALIASES[key]).text, None)
    if key in AMBIGUOUS_NAMES:
        return _Attempt(None, f"{stripped!r} is ambiguous: {AMBIGUOUS_NAMES[key]}")
    return _Attempt(None, f"{stripped!r} is neither an SPDX expression nor a name that identifies one licence")


def _from_classifiers(classifiers: tuple[str, ...]) -> _Attempt:
    specific = [c for c in classifiers if c not in _UNINFORMATIVE_CLASSIFIERS]
    if not specific:
        return _Attempt(None, "they only say the licence is OSI/DFSG approved, not which one")
    ids: list[str] = []
    problems: list[str] = []
    for classifier in specific:
        if classifier in CLASSIFIER_LICENSES:
            ids.append(CLASSIFIER_LICENSES[classifier])
        elif classifier in AMBIGUOUS_CLASSIFIERS:
            problems.append(f"{classifier!r} is ambiguous: {AMBIGUOUS_CLASSIFIERS[classifier]}")
        else:
            problems.append(f"{classifier!r} is not a licence classifier this gate knows")
    if problems:
        return _Attempt(None, "; ".join(problems))
    joined = f" {CLASSIFIERS_JOINED_BY} ".join(sorted(set(ids)))
    return _Attempt(parse_expression(joined).text, None)


def _present(value: str | None) -> str | None:
    if value is None or value.strip().casefold() in _ABSENT:
        return None
    return value


def _licence_classifiers(classifiers: tuple[str, ...]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for classifier in classifiers:
        cleaned = " :: ".join(part.strip() for part in classifier.split("::"))
        if cleaned.startswith("License ::"):
            seen.setdefault(cleaned)
    return tuple(seen)


def detect(fields: LicenseFields, *, ecosystem: str) -> Detected:
    """Resolve a package's raw licence metadata to a normalised SPDX expression, or say why not.

    ``ecosystem`` "conda" reads only ``fields.text`` (the recipe's ``license``); any other value
    reads the Python core metadata fields in PEP 639 order (see the module doc)."""
    if ecosystem == "conda":
        return _detect_conda(fields.text)
    expression = fields.expression
    if expression is not None and expression.strip():
        attempt = _from_expression(expression.strip())
        reason = None if attempt.problem is None else f"License-Expression {attempt.problem}"
        return Detected(expression=attempt.expression, origin=Origin.LICENSE_EXPRESSION,
                        raw=_excerpt(expression), reason=reason)

    problems: list[str] = []
    first: tuple[Origin, str] | None = None
    text = _present(fields.text)
    if text is not None:
        first = (Origin.LICENSE_FIELD, _excerpt(text))
        attempt = _from_name(text)
        if attempt.expression is not None:
            return Detected(expression=attempt.expression, origin=Origin.LICENSE_FIELD, raw=first[1])
        problems.append(f"License field {attempt.problem}")

    classifiers = _licence_classifiers(fields.classifiers)
    if classifiers:
        raw = "; ".join(classifiers)
        attempt = _from_classifiers(classifiers)
        if attempt.expression is not None:
            return Detected(expression=attempt.expression, origin=Origin.CLASSIFIERS, raw=raw)
        problems.append(f"licence classifiers: {attempt.problem}")
        first = first or (Origin.CLASSIFIERS, raw)

    if first is None:
        return Detected(expression=None, origin=None, raw=None,
                        reason="no licence metadata (no License-Expression, License field or licence classifier)")
    return Detected(expression=None, origin=first[0], raw=first[1], reason="; ".join(problems))


def _detect_conda(value: str | None) -> Detected:
    present = _present(value)
    if present is None:
        return Detected(expression=None, origin=None, raw=None, reason="the conda package declares no licence")
    attempt = _from_name(present)
    reason = None if attempt.problem is None else f"conda licence {attempt.problem}"
    return Detected(expression=attempt.expression, origin=Origin.CONDA_LICENSE, raw=_excerpt(present), reason=reason)


def from_override(expression: str) -> Detected:
    """A policy override (``licenses.overrides[].license``) as a detection result.

    It must be an SPDX expression (no aliases: a policy is written for this gate and can be
    exact); an invalid one comes back unresolved with the reason, though the policy loader
    should already have refused it (validate with :func:`gate.licenses.parse_expression`)."""
    attempt = _from_expression(expression.strip())
    reason = None if attempt.problem is None else f"override {expression!r} {attempt.problem}"
    return Detected(expression=attempt.expression, origin=Origin.OVERRIDE, raw=expression, reason=reason)
