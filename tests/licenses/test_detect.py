"""Licence detection on real releases' metadata, and on the edges of each source."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gate.licenses import (
    AMBIGUOUS_CLASSIFIERS,
    AMBIGUOUS_NAMES,
    CLASSIFIER_LICENSES,
    LICENSE_ALIASES,
    Detected,
    Origin,
    detect,
    from_override,
    parse_expression,
)
from gate.model import LicenseFields

BSD = "License :: OSI Approved :: BSD License"
MIT = "License :: OSI Approved :: MIT License"
APACHE = "License :: OSI Approved :: Apache Software License"
LGPL = "License :: OSI Approved :: GNU Library or Lesser General Public License (LGPL)"

# Licence texts as real releases put them in the License field: the first lines verbatim, the
# rest elided (detection only needs to see that it is a text).
SCIPY_TEXT = ("Copyright (c) 2001-2002 Enthought, Inc. 2003, SciPy Developers.\n         All rights reserved.\n"
              "         \n         Redistribution and use in source and binary forms, with or without\n")
MATPLOTLIB_TEXT = ("License agreement for matplotlib versions 1.3.0 and later\n"
                   "         =========================================================\n")
LIGHTGBM_TEXT = ("The MIT License (MIT)\n        \n        Copyright (c) Microsoft Corporation\n        \n"
                 "        Permission is hereby granted, free of charge, to any person obtaining a copy\n")

# (release, License-Expression, License, licence classifiers, expected expression, expected origin)
# Every row is the METADATA of that release as published (read from installed wheels where the
# row says "installed"; the others are well-known long-standing values).
REAL: list[tuple[str, str | None, str | None, tuple[str, ...], str | None, Origin | None]] = [
    # PEP 639 License-Expression (installed wheels)
    ("numpy 2.4.6", "BSD-3-Clause AND 0BSD AND MIT AND Zlib AND CC0-1.0", None, (),
     "BSD-3-Clause AND 0BSD AND MIT AND Zlib AND CC0-1.0", Origin.LICENSE_EXPRESSION),
    ("urllib3 2.8.0", "MIT", None, (), "MIT", Origin.LICENSE_EXPRESSION),
    ("cryptography 50.0.2", "Apache-2.0 OR BSD-3-Clause", None, (), "Apache-2.0 OR BSD-3-Clause",
     Origin.LICENSE_EXPRESSION),
    ("pillow 11.3.0", "MIT-CMU", None, (), "MIT-CMU", Origin.LICENSE_EXPRESSION),
    ("packaging 26.2", "Apache-2.0 OR BSD-2-Clause", None, (), "Apache-2.0 OR BSD-2-Clause",
     Origin.LICENSE_EXPRESSION),
    ("regex 2026.5.9", "Apache-2.0 AND CNRI-Python", None, (), "Apache-2.0 AND CNRI-Python",
     Origin.LICENSE_EXPRESSION),
    ("greenlet 3.5.6", "MIT AND PSF-2.0", None, (), "MIT AND PSF-2.0", Origin.LICENSE_EXPRESSION),
    ("typing_extensions 4.15.0", "PSF-2.0", None, (), "PSF-2.0", Origin.LICENSE_EXPRESSION),
    ("cffi 2.1.1", "MIT-0", None, (), "MIT-0", Origin.LICENSE_EXPRESSION),
    ("aiohttp 3.14.5", "Apache-2.0 AND MIT", None, (), "Apache-2.0 AND MIT", Origin.LICENSE_EXPRESSION),
    # License field holding an SPDX expression (installed wheels)
    ("certifi 2026.10.19.post1", None, "MPL-2.0", ("License :: OSI Approved :: Mozilla Public License 2.0 (MPL 2.0)",),
     "MPL-2.0", Origin.LICENSE_FIELD),
    ("requests 2.32.5", None, "Apache-2.0", (APACHE,), "Apache-2.0", Origin.LICENSE_FIELD),
    ("PyYAML 6.0.2", None, "MIT", (MIT,), "MIT", Origin.LICENSE_FIELD),
    ("Django 5.2.6", None, "BSD-3-Clause", (BSD,), "BSD-3-Clause", Origin.LICENSE_FIELD),
    ("tqdm 4.70.1", None, "MPL-2.0 AND MIT", (), "MPL-2.0 AND MIT", Origin.LICENSE_FIELD),
    ("sniffio 1.3.1", None, "MIT OR Apache-2.0", (MIT, APACHE), "MIT OR Apache-2.0", Origin.LICENSE_FIELD),
    ("Pillow 8.2.0", None, "HPND", ("License :: OSI Approved :: Historical Permission Notice and Disclaimer (HPND)",),
     "HPND", Origin.LICENSE_FIELD),
    # License field through the alias table (installed wheels, except requests 2.19.1)
    ("requests 2.19.1", None, "Apache 2.0", (APACHE,), "Apache-2.0", Origin.LICENSE_FIELD),
    ("transformers 4.56.1", None, "Apache 2.0 License", (APACHE,), "Apache-2.0", Origin.LICENSE_FIELD),
    ("boto3 1.40.25", None, "Apache License 2.0", (APACHE,), "Apache-2.0", Origin.LICENSE_FIELD),
    ("nltk 3.9.1", None, "Apache License, Version 2.0", (APACHE,), "Apache-2.0", Origin.LICENSE_FIELD),
    ("huggingface_hub 0.36.2", None, "Apache", (APACHE,), "Apache-2.0", Origin.LICENSE_FIELD),
    ("rsa 4.7.2", None, "ASL 2", (APACHE,), "Apache-2.0", Origin.LICENSE_FIELD),
    ("beautifulsoup4 4.15.0", None, "MIT License", (MIT,), "MIT", Origin.LICENSE_FIELD),
    ("rfc3339-validator 0.1.4", None, "MIT license", (MIT,), "MIT", Origin.LICENSE_FIELD),
    ("protobuf 6.33.6", None, "3-Clause BSD License", (), "BSD-3-Clause", Origin.LICENSE_FIELD),
    ("jsonpatch 1.33", None, "Modified BSD License", (BSD,), "BSD-3-Clause", Origin.LICENSE_FIELD),
    ("patsy 1.0.3", None, "2-clause BSD", (BSD,), "BSD-2-Clause", Origin.LICENSE_FIELD),
    ("pexpect 4.9.0", None, "ISC license", ("License :: OSI Approved :: ISC License (ISCL)",), "ISC",
     Origin.LICENSE_FIELD),
    ("defusedxml 0.7.1", None, "PSFL", ("License :: OSI Approved :: Python Software Foundation License",),
     "PSF-2.0", Origin.LICENSE_FIELD),
    ("cvss 3.6", None, "LGPLv3+",
     ("License :: OSI Approved :: GNU Lesser General Public License v3 or later (LGPLv3+)",),
     "LGPL-3.0-or-later", Origin.LICENSE_FIELD),
    # Classifiers when there is no usable License field (installed wheels)
    ("blinker 1.9.0", None, None, (MIT,), "MIT", Origin.CLASSIFIERS),
    ("isoduration 20.11.0", None, "UNKNOWN", ("License :: OSI Approved :: ISC License (ISCL)",), "ISC",
     Origin.CLASSIFIERS),
    ("lightgbm 4.6.0", None, LIGHTGBM_TEXT, (MIT,), "MIT", Origin.CLASSIFIERS),
    ("matplotlib 3.10.6", None, MATPLOTLIB_TEXT, ("License :: OSI Approved :: Python Software Foundation License",),
     "PSF-2.0", Origin.CLASSIFIERS),
    # Unresolved: ambiguous names, licence texts, version-less classifiers
    ("scipy 1.17.1", None, SCIPY_TEXT, (BSD,), None, Origin.LICENSE_FIELD),
    ("Jinja2 3.1.6", None, None, (BSD,), None, Origin.CLASSIFIERS),
    ("numpy 1.22.0", None, "BSD", (BSD,), None, Origin.LICENSE_FIELD),
    ("python-dateutil 2.9.0.post0", None, "Dual License", (BSD, APACHE), None, Origin.LICENSE_FIELD),
    ("chardet 3.0.4", None, "LGPL", (LGPL,), None, Origin.LICENSE_FIELD),
    ("psycopg2-binary 2.9.13", None, "LGPL with exceptions", (LGPL,), None, Origin.LICENSE_FIELD),
    ("docutils 0.19", None, "public domain, Python, 2-Clause BSD, GPL 3 (see COPYING.txt)",
     ("License :: Public Domain", "License :: OSI Approved :: Python Software Foundation License", BSD,
      "License :: OSI Approved :: GNU General Public License (GPL)"), None, Origin.LICENSE_FIELD),
]


@pytest.mark.parametrize(("release", "expression", "text", "classifiers", "expected", "origin"), REAL,
                         ids=[row[0] for row in REAL])
def test_real_releases(release: str, expression: str | None, text: str | None, classifiers: tuple[str, ...],
                       expected: str | None, origin: Origin | None) -> None:
    detected = detect(LicenseFields(expression=expression, text=text, classifiers=classifiers), ecosystem="pypi")
    assert detected.expression == expected
    assert detected.origin is origin
    assert detected.resolved is (expected is not None)
    assert (detected.reason is None) is (expected is not None)


def test_unresolved_reasons_name_every_source_tried() -> None:
    detected = detect(LicenseFields(text=SCIPY_TEXT, classifiers=(BSD,)), ecosystem="pypi")
    assert detected.reason is not None
    assert "License field holds a licence text (4 lines" in detected.reason
    assert f"{BSD!r} is ambiguous" in detected.reason
    assert detected.raw == ("Copyright (c) 2001-2002 Enthought, Inc. 2003, SciPy Developers. "
                            "[text of 179 characters]")

    ambiguous = detect(LicenseFields(text="BSD", classifiers=(BSD,)), ecosystem="pypi")
    assert ambiguous.raw == "BSD"
    assert ambiguous.reason is not None and ambiguous.reason.startswith("License field 'BSD' is ambiguous: BSD names")


def test_license_expression_is_authoritative_and_invalid_means_unresolved() -> None:
    # PEP 639 forbids the other fields next to it; if a package has them anyway, they are not read.
    fields = LicenseFields(expression="MIT", text="GPL-3.0-only", classifiers=(APACHE,))
    assert detect(fields, ecosystem="pypi") == Detected(expression="MIT", origin=Origin.LICENSE_EXPRESSION, raw="MIT")

    invalid = detect(LicenseFields(expression="MIT or", text="MIT", classifiers=(MIT,)), ecosystem="pypi")
    assert invalid.expression is None
    assert invalid.origin is Origin.LICENSE_EXPRESSION
    assert invalid.raw == "MIT or"
    assert invalid.reason is not None and invalid.reason.startswith("License-Expression is not a valid SPDX expression")

    # Aliases are for the legacy field only: PEP 639 requires SPDX.
    assert detect(LicenseFields(expression="Apache 2.0"), ecosystem="pypi").expression is None


def test_license_expression_is_normalised() -> None:
    detected = detect(LicenseFields(expression="mit or apache-2.0 and gpl-2.0+"), ecosystem="pypi")
    assert detected.expression == "MIT OR (Apache-2.0 AND GPL-2.0-or-later)"
    assert detected.raw == "mit or apache-2.0 and gpl-2.0+"


@pytest.mark.parametrize("text", ["BSD", "BSD License", "bsd-like", "GPL", "LGPL", "GNU GPL", "Python",
                                  "Dual License", "Other/Proprietary License", "LGPLv2", "MPL", "MIT/X11",
                                  "MIT or Apache 2.0", "see LICENSE", "Apache-2.0/MIT", "MIT+", "GPL 3 or later?"])
def test_names_that_do_not_identify_one_licence_stay_unresolved(text: str) -> None:
    detected = detect(LicenseFields(text=text), ecosystem="pypi")
    assert detected.expression is None
    assert detected.origin is Origin.LICENSE_FIELD
    assert detected.raw == text


def test_absent_values_fall_through_to_classifiers() -> None:
    for value in ("UNKNOWN", "", "  ", "None"):
        detected = detect(LicenseFields(text=value, classifiers=(MIT,)), ecosystem="pypi")
        assert (detected.expression, detected.origin) == ("MIT", Origin.CLASSIFIERS)
    assert detect(LicenseFields(text="UNKNOWN"), ecosystem="pypi") == Detected(
        expression=None, origin=None, raw=None,
        reason="no licence metadata (no License-Expression, License field or licence classifier)")


def test_a_long_single_line_is_a_text() -> None:
    detected = detect(LicenseFields(text="MIT " + "x" * 300), ecosystem="pypi")
    assert detected.expression is None
    assert detected.reason is not None and "holds a licence text (1 lines, 304 characters)" in detected.reason
    assert detected.raw is not None and len(detected.raw) < 160


def test_several_classifiers_are_joined_with_and() -> None:
    detected = detect(LicenseFields(classifiers=(MIT, APACHE, MIT)), ecosystem="pypi")
    assert (detected.expression, detected.origin) == ("Apache-2.0 AND MIT", Origin.CLASSIFIERS)
    assert detected.raw == f"{MIT}; {APACHE}"


def test_one_unmappable_classifier_leaves_all_unresolved() -> None:
    detected = detect(LicenseFields(classifiers=(MIT, BSD)), ecosystem="pypi")
    assert detected.expression is None
    assert detected.reason is not None and "BSD License" in detected.reason
    unknown = detect(LicenseFields(classifiers=("License :: OSI Approved :: Imaginary License",)), ecosystem="pypi")
    assert unknown.reason is not None and "is not a licence classifier this gate knows" in unknown.reason


def test_uninformative_parent_classifiers() -> None:
    parent = "License :: OSI Approved"
    assert detect(LicenseFields(classifiers=(parent, MIT)), ecosystem="pypi").expression == "MIT"
    alone = detect(LicenseFields(classifiers=(parent,)), ecosystem="pypi")
    assert alone.expression is None
    assert alone.reason is not None and "not which one" in alone.reason


def test_classifier_versions() -> None:
    def via(classifier: str) -> str | None:
        return detect(LicenseFields(classifiers=(classifier,)), ecosystem="pypi").expression

    assert via("License :: OSI Approved :: GNU General Public License v3 (GPLv3)") == "GPL-3.0-only"
    assert via("License :: OSI Approved :: GNU General Public License v3 or later (GPLv3+)") == "GPL-3.0-or-later"
    assert via("License :: OSI Approved :: GNU General Public License v2 (GPLv2)") == "GPL-2.0-only"
    assert via("License :: OSI Approved :: GNU General Public License (GPL)") is None
    assert via("License :: OSI Approved :: GNU Lesser General Public License v2 (LGPLv2)") is None
    assert via("License :: OSI Approved :: GNU Lesser General Public License v3 (LGPLv3)") == "LGPL-3.0-only"
    assert via("License :: OSI Approved :: Mozilla Public License 2.0 (MPL 2.0)") == "MPL-2.0"
    assert via("License :: OSI Approved :: Python Software Foundation License") == "PSF-2.0"
    assert via("License :: OSI Approved :: Zope Public License") is None
    assert via("License :: Other/Proprietary License") is None
    assert via("License :: Public Domain") == "LicenseRef-scancode-public-domain"
    assert via("License :: OSI Approved :: Apache Software License") == "Apache-2.0"


def test_conda_licence_string() -> None:
    def conda(value: str | None) -> Detected:
        # A conda reader fills only `text`; other fields would be ignored.
        return detect(LicenseFields(text=value, classifiers=(MIT,)), ecosystem="conda")

    assert conda("BSD-3-Clause") == Detected(expression="BSD-3-Clause", origin=Origin.CONDA_LICENSE,
                                             raw="BSD-3-Clause")
    assert conda("BSD 3-Clause").expression == "BSD-3-Clause"
    assert conda("Apache 2.0").expression == "Apache-2.0"
    assert conda("LGPL-2.1-or-later").expression == "LGPL-2.1-or-later"
    assert conda("PSF-2.0").expression == "PSF-2.0"
    assert conda("BSD-3-Clause AND MIT").expression == "BSD-3-Clause AND MIT"
    bsd = conda("BSD")
    assert (bsd.expression, bsd.origin) == (None, Origin.CONDA_LICENSE)
    assert bsd.reason is not None and bsd.reason.startswith("conda licence 'BSD' is ambiguous")
    assert conda(None) == Detected(expression=None, origin=None, raw=None,
                                   reason="the conda package declares no licence")


def test_override() -> None:
    assert from_override("BSD-3-Clause") == Detected(expression="BSD-3-Clause", origin=Origin.OVERRIDE,
                                                     raw="BSD-3-Clause")
    bad = from_override("BSD")
    assert (bad.expression, bad.origin, bad.raw) == (None, Origin.OVERRIDE, "BSD")
    assert bad.reason is not None and "is not a valid SPDX expression" in bad.reason


def test_every_table_entry_is_a_valid_known_expression() -> None:
    for target in {*LICENSE_ALIASES.values(), *CLASSIFIER_LICENSES.values()}:
        assert parse_expression(target).text == target
    assert not set(CLASSIFIER_LICENSES) & set(AMBIGUOUS_CLASSIFIERS)
    assert not set(LICENSE_ALIASES) & set(AMBIGUOUS_NAMES)
    assert all(classifier.startswith("License :: ") for classifier in (*CLASSIFIER_LICENSES, *AMBIGUOUS_CLASSIFIERS))


@pytest.mark.parametrize(("spelling", "expected"), [
    ("Apache Software License", "Apache-2.0"), ("apache license, version 2.0", "Apache-2.0"),
    ("The MIT License (MIT)", "MIT"), ("New BSD License", "BSD-3-Clause"), ("Simplified BSD", "BSD-2-Clause"),
    ("GPLv3+", "GPL-3.0-or-later"), ("GPLv2", "GPL-2.0-only"), ("LGPL-2.1+", "LGPL-2.1-or-later"),
    ("GPL-2.0", "GPL-2.0-only"), ("ZPL 2.1", "ZPL-2.1"), ("Public Domain", "LicenseRef-scancode-public-domain"),
    ("  MIT   License ", "MIT"),
])
def test_aliases(spelling: str, expected: str) -> None:
    assert detect(LicenseFields(text=spelling), ecosystem="pypi").expression == expected


@given(st.text(max_size=300), st.lists(st.text(max_size=80), max_size=4))
def test_detect_never_raises(text: str, classifiers: list[str]) -> None:
    for ecosystem in ("pypi", "conda"):
        detected = detect(LicenseFields(expression=text or None, text=text, classifiers=tuple(classifiers)),
                          ecosystem=ecosystem)
        assert detected.resolved is (detected.reason is None)
        if detected.expression is not None:
            assert parse_expression(detected.expression).text == detected.expression
