"""The CI glue: what runs inside a GitHub Actions or GitLab CI job after ``gate check``.

Everything here reads the files ``gate check --out`` wrote (``result.json``, ``report.md``)
and talks to the runner (step summary, outputs, annotations) or to the forge's REST API (the
sticky PR/MR comment, issues). The forge clients take their base URL, token and transport from
the caller, so the tests drive them against a server on loopback."""
