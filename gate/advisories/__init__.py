"""The offline advisory database: OSV records compiled into a local index, and matching of
installed versions against it. The network client lives in :mod:`gate.advisories.download`,
imported only by `gate db update`, so a check never loads it."""

from gate.advisories.database import (
    DATABASE_FILENAME,
    MISSING_MESSAGE,
    SCHEMA_VERSION,
    AdvisoryDatabase,
    default_database_path,
    import_database,
    iter_documents,
)
from gate.advisories.match import (
    AFFECTED,
    NOT_AFFECTED,
    MatchResult,
    entries_affect,
    entry_affects,
    parse_version,
    range_affects,
    ranges_affect,
)
from gate.advisories.osv import (
    PYPI,
    AffectedPackage,
    Event,
    EventKind,
    OsvRecord,
    Range,
    canonical_json,
    normalise_timestamp,
    parse_record,
)
from gate.advisories.severity import cvss_score, level_for_score, record_severity

__all__ = [
    "AFFECTED",
    "DATABASE_FILENAME",
    "MISSING_MESSAGE",
    "NOT_AFFECTED",
    "PYPI",
    "SCHEMA_VERSION",
    "AdvisoryDatabase",
    "AffectedPackage",
    "Event",
    "EventKind",
    "MatchResult",
    "OsvRecord",
    "Range",
    "canonical_json",
    "cvss_score",
    "default_database_path",
    "entries_affect",
    "entry_affects",
    "import_database",
    "iter_documents",
    "level_for_score",
    "normalise_timestamp",
    "parse_record",
    "parse_version",
    "range_affects",
    "ranges_affect",
    "record_severity",
]
