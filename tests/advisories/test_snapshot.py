"""The real PyPA snapshot in ../shared (7,080 records as of 2026-07-23): counts, digests, the
records' own consistency, and the compiled index against direct evaluation. Skipped when
../shared is absent."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from gate.advisories import (
    AdvisoryDatabase,
    AffectedPackage,
    OsvRecord,
    entries_affect,
    iter_documents,
    parse_record,
    parse_version,
    ranges_affect,
)
from gate.advisories.osv import is_withdrawn, require_record
from gate.model import Package
from tests.advisories.helpers import SNAPSHOT_JSON_ZIP, SNAPSHOT_YAML_ZIP, pkg

pytestmark = pytest.mark.skipif(not SNAPSHOT_YAML_ZIP.is_file() or not SNAPSHOT_JSON_ZIP.is_file(),
                                reason="../shared/advisories is absent")

SNAPSHOT_RECORDS = 7080
SNAPSHOT_WITHDRAWN = 269

# Listed versions that the record's own ECOSYSTEM ranges exclude. Matching still reports them:
# a listed version is affected whatever the ranges say.
CONTRADICTIONS: dict[tuple[str, str, str], str] = {
    # Pre-releases of 3.2 and 4.2 are listed, but the ranges start at "3.2" and "4.2", which
    # PEP 440 orders after their pre-releases.
    ("PYSEC-2023-61", "django", "3.2a1"): "pre-release below introduced 3.2",
    ("PYSEC-2023-61", "django", "3.2b1"): "pre-release below introduced 3.2",
    ("PYSEC-2023-61", "django", "3.2rc1"): "pre-release below introduced 3.2",
    ("PYSEC-2023-61", "django", "4.2a1"): "pre-release below introduced 4.2",
    ("PYSEC-2023-61", "django", "4.2b1"): "pre-release below introduced 4.2",
    ("PYSEC-2023-61", "django", "4.2rc1"): "pre-release below introduced 4.2",
    # One range holds overlapping pairs (0..2.11.6 and 2.11..2.11.7); replayed in version order,
    # fixed 2.11.6 closes the stretch that 2.11 opened.
    ("PYSEC-2021-114", "wagtail", "2.11.6"): "overlapping introduced/fixed pairs in one range",
}

# Listed (parsable) versions that the ranges can judge only as "uncertain", because a bound is
# not a PEP 440 version and could sort anywhere. Counted per record.
UNJUDGEABLE: dict[tuple[str, str], tuple[str, int]] = {
    ("PYSEC-2026-686", "neutron"): ("fixed bounds with Debian revisions, e.g. '7.2.0-12.1'", 183),
    ("PYSEC-2026-1194", "assemblyline-service-client"): ("fixed bound '4.6.0.stable11'", 115),
}

# Listed versions that are not PEP 440 at all ('0.1-bulbasaur', 'trunk', '2.0.1rc2-git', ...):
# no range can place them, so the range-only answer is "affected, uncertain"; the list itself
# matches them verbatim.
UNPARSABLE_LISTED = 151


@pytest.fixture(scope="module")
def records() -> list[OsvRecord]:
    """Every record the import keeps, read the way the import reads them."""
    kept = []
    for where, document in iter_documents(SNAPSHOT_YAML_ZIP):
        record = require_record(document, where=where)
        if not is_withdrawn(record):
            kept.append(parse_record(record, where=where))
    return kept


def test_yaml_and_json_exports_agree(snapshot_db: Path, snapshot_json_db: Path) -> None:
    with AdvisoryDatabase.open(snapshot_db) as yaml_db, AdvisoryDatabase.open(snapshot_json_db) as json_db:
        assert yaml_db.info.records == json_db.info.records == SNAPSHOT_RECORDS - SNAPSHOT_WITHDRAWN
        assert yaml_db.withdrawn == json_db.withdrawn == SNAPSHOT_WITHDRAWN
        # The JSON export writes some timestamps as "2024-11-25 19:30:00+00:00", the YAML as
        # unquoted 2024-11-25T19:30:00Z: normalised, the records are the same.
        assert yaml_db.info.digest == json_db.info.digest
        # Two records claim to be modified on 2027-07-09; the age is judged without them.
        assert yaml_db.info.newest_modified == json_db.info.newest_modified == "2026-07-23T14:34:38.042882Z"


def test_listed_versions_agree_with_ranges(records: list[OsvRecord]) -> None:
    """For every version a record lists beside ECOSYSTEM ranges, the ranges alone must say
    affected; every exception is explained above, and a new one fails here."""
    excluded: set[tuple[str, str, str]] = set()
    unjudgeable: Counter[tuple[str, str]] = Counter()
    unparsable = 0
    checked = 0
    for record in records:
        for entry in record.affected:
            if not entry.ranges:
                continue
            for listed in entry.versions:
                checked += 1
                result = ranges_affect(listed, entry.ranges)
                if parse_version(listed) is None:
                    assert result.affected and result.uncertain == (
                        f"installed version {listed!r} is not a PEP 440 version")
                    unparsable += 1
                elif not result.affected:
                    excluded.add((record.advisory.id, entry.name, listed))
                elif result.uncertain is not None:
                    unjudgeable[(record.advisory.id, entry.name)] += 1
    assert checked > 570_000
    assert excluded == set(CONTRADICTIONS)
    assert dict(unjudgeable) == {key: count for key, (_, count) in UNJUDGEABLE.items()}
    assert unparsable == UNPARSABLE_LISTED


def _sample(values: list[str], size: int) -> list[str]:
    if len(values) <= size:
        return values
    step = len(values) / size
    return [values[int(index * step)] for index in range(size)]


def test_index_answers_as_the_records_do(records: list[OsvRecord], snapshot_db: Path) -> None:
    """The compiled index (listed versions pruned, events re-encoded) against direct
    evaluation of the parsed records, for a sample of versions of every package."""
    by_name: dict[str, dict[str, list[AffectedPackage]]] = defaultdict(lambda: defaultdict(list))
    for record in records:
        for entry in record.affected:
            by_name[entry.name][record.advisory.id].append(entry)
    packages: list[Package] = []
    for name, advisories in by_name.items():
        candidates = {version for entries in advisories.values() for entry in entries for version in entry.versions}
        candidates |= {bound for entries in advisories.values() for entry in entries
                       for events in entry.ranges for _, bound in events}
        candidates |= {"0.0.1", "99.0", "1.0+local"}
        packages += [pkg(name, version) for version in _sample(sorted(candidates), 12)]
    expected = set()
    for package in packages:
        assert package.version is not None
        for identifier, entries in by_name[package.name].items():
            result = entries_affect(package.version, entries)
            if result.affected:
                expected.add((package.name, package.version, identifier, result.uncertain))
    with AdvisoryDatabase.open(snapshot_db) as database:
        found = {(m.package.name, m.package.version, m.advisory.id, m.uncertain) for m in database.matches(packages)}
    assert len(packages) > 10_000
    assert len(expected) > 10_000
    assert found == expected


def test_torch_bounds_written_as_no_version_can_be(snapshot_db: Path) -> None:
    with AdvisoryDatabase.open(snapshot_db) as database:
        matches = database.matches([pkg("torch", "2.2.0+cu118")])
    reasons = {m.advisory.id: m.uncertain for m in matches}
    assert reasons["PYSEC-2025-192"] == "advisory range bound '2.6.0-NA' is not a PEP 440 version"
    assert any(reason is None for reason in reasons.values())  # exact matches are still exact


def test_matching_a_large_environment_is_fast(records: list[OsvRecord], snapshot_db: Path) -> None:
    """220 of the most-advised packages (TensorFlow three times over, Django, Airflow, ...),
    far heavier than a real environment; a check must stay well under a second."""
    counts = Counter(entry.name for record in records for entry in record.affected)
    packages = [pkg(name, "1.0") for name, _ in counts.most_common(220)]
    with AdvisoryDatabase.open(snapshot_db) as database:
        database.matches(packages)  # warm the version cache as a check's first call would not
        started = time.perf_counter()
        database.matches(packages)
        elapsed = time.perf_counter() - started
    assert elapsed < 0.25
