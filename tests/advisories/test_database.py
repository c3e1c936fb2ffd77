from __future__ import annotations

import json
import os
import sqlite3
import stat
import zipfile
from pathlib import Path

import pytest

from gate.advisories import MISSING_MESSAGE, AdvisoryDatabase, default_database_path, import_database, iter_documents
from gate.advisories import database as database_module
from gate.errors import AdvisoryDataError
from gate.model import DatabaseInfo, Level, Match, Package
from tests.advisories.helpers import IMPORTED_AT, JSON_RECORDS, YAML_CHECKOUT, pkg, zip_folder

FIXTURE_RECORDS = 14  # files in tests/assets/osv/json
FIXTURE_WITHDRAWN = 1


def found(matches: list[Match]) -> list[tuple[str, str, str | None]]:
    return [(m.package.label, m.advisory.id, m.uncertain) for m in matches]


# --- import ------------------------------------------------------------------------------


def test_import_reports_what_it_compiled(tmp_path: Path) -> None:
    info = import_database(JSON_RECORDS, tmp_path / "db.sqlite3", now=IMPORTED_AT)
    assert info.records == FIXTURE_RECORDS - FIXTURE_WITHDRAWN
    assert info.source == str(JSON_RECORDS)
    assert info.imported_at == "2026-11-26T12:00:00Z"
    assert info.newest_modified == "2026-04-01T00:00:00Z"
    assert info.digest.startswith("sha256:") and len(info.digest) == 71
    with AdvisoryDatabase.open(tmp_path / "db.sqlite3") as opened:
        assert opened.info == info
        assert opened.withdrawn == FIXTURE_WITHDRAWN


def test_database_file_is_readable_by_others_and_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    import_database(JSON_RECORDS, path, now=IMPORTED_AT)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    path.chmod(0o640)
    import_database(JSON_RECORDS, path, now=IMPORTED_AT)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_source_label_is_recorded(tmp_path: Path) -> None:
    info = import_database(JSON_RECORDS, tmp_path / "db.sqlite3", now=IMPORTED_AT, source_label="https://mirror/all.zip")
    assert info.source == "https://mirror/all.zip"


def test_same_records_same_digest_whatever_the_container(tmp_path: Path) -> None:
    """JSON files, a YAML checkout (unquoted timestamps, a .github folder), either zipped."""
    json_dir = import_database(JSON_RECORDS, tmp_path / "a.sqlite3", now=IMPORTED_AT)
    yaml_zip = import_database(zip_folder(YAML_CHECKOUT, tmp_path / "yaml.zip", prefix="advisory-database-main/"),
                               tmp_path / "b.sqlite3", now=IMPORTED_AT)
    yaml_dir = import_database(YAML_CHECKOUT, tmp_path / "c.sqlite3", now=IMPORTED_AT)
    json_zip = import_database(zip_folder(JSON_RECORDS, tmp_path / "json.zip"), tmp_path / "d.sqlite3",
                               now=IMPORTED_AT)
    assert json_dir.digest == yaml_zip.digest == yaml_dir.digest == json_zip.digest
    assert json_dir.records == yaml_zip.records == FIXTURE_RECORDS - FIXTURE_WITHDRAWN
    assert json_dir.newest_modified == yaml_zip.newest_modified


def test_a_changed_record_changes_the_digest(tmp_path: Path) -> None:
    folder = tmp_path / "records"
    folder.mkdir()
    for path in JSON_RECORDS.glob("*.json"):
        (folder / path.name).write_bytes(path.read_bytes())
    before = import_database(folder, tmp_path / "a.sqlite3", now=IMPORTED_AT).digest
    record = json.loads((folder / "TEST-2026-0001.json").read_text())
    record["affected"][0]["ranges"][0]["events"][1]["fixed"] = "1.2.1"
    (folder / "TEST-2026-0001.json").write_text(json.dumps(record))
    assert import_database(folder, tmp_path / "b.sqlite3", now=IMPORTED_AT).digest != before


def test_newest_modified_ignores_records_dated_after_the_import(tmp_path: Path) -> None:
    folder = tmp_path / "records"
    folder.mkdir()
    (folder / "a.json").write_text(json.dumps({"id": "A", "modified": "2026-01-01T00:00:00Z"}))
    (folder / "b.json").write_text(json.dumps({"id": "B", "modified": "2027-07-09T15:45:00Z"}))
    assert import_database(folder, tmp_path / "db", now=IMPORTED_AT).newest_modified == "2026-01-01T00:00:00Z"


def test_records_are_found_at_any_depth_and_hidden_folders_skipped() -> None:
    wheres = [where for where, _ in iter_documents(YAML_CHECKOUT)]
    assert len(wheres) == FIXTURE_RECORDS
    assert all("/vulns/" in where for where in wheres)


# --- failures leave the previous database alone -----------------------------------------


@pytest.fixture
def previous(tmp_path: Path) -> tuple[Path, bytes]:
    path = tmp_path / "db" / "advisories.sqlite3"
    import_database(JSON_RECORDS, path, now=IMPORTED_AT)
    return path, path.read_bytes()


def assert_intact(previous: tuple[Path, bytes]) -> None:
    path, content = previous
    assert path.read_bytes() == content
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temporary file left behind


def test_corrupt_zip(tmp_path: Path, previous: tuple[Path, bytes]) -> None:
    archive = tmp_path / "all.zip"
    archive.write_bytes(b"PK\x03\x04 this is not really a zip")
    with pytest.raises(AdvisoryDataError) as raised:
        import_database(archive, previous[0], now=IMPORTED_AT)
    assert str(raised.value) == f"{archive}: not a zip file"
    assert_intact(previous)


def test_truncated_zip(tmp_path: Path, previous: tuple[Path, bytes]) -> None:
    whole = zip_folder(JSON_RECORDS, tmp_path / "whole.zip").read_bytes()
    archive = tmp_path / "all.zip"
    archive.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(AdvisoryDataError, match="not a zip file"):
        import_database(archive, previous[0], now=IMPORTED_AT)
    assert_intact(previous)


def test_bad_member_is_named(tmp_path: Path, previous: tuple[Path, bytes]) -> None:
    archive = zip_folder(YAML_CHECKOUT, tmp_path / "all.zip")
    with zipfile.ZipFile(archive, "a") as out:
        out.writestr("vulns/broken/PYSEC-0000-1.yaml", "id: PYSEC-0000-1\naffected: [\n  - oops: {\n")
    with pytest.raises(AdvisoryDataError) as raised:
        import_database(archive, previous[0], now=IMPORTED_AT)
    assert str(raised.value) == (f"{archive}!vulns/broken/PYSEC-0000-1.yaml:3: invalid YAML: "
                                 "did not find expected node content")
    assert_intact(previous)


def test_invalid_record_is_named(tmp_path: Path, previous: tuple[Path, bytes]) -> None:
    archive = zip_folder(JSON_RECORDS, tmp_path / "all.zip")
    with zipfile.ZipFile(archive, "a") as out:
        out.writestr("BAD-1.json", json.dumps({"id": "BAD-1", "affected": [{"package": {"ecosystem": "PyPI"}}]}))
    with pytest.raises(AdvisoryDataError) as raised:
        import_database(archive, previous[0], now=IMPORTED_AT)
    assert str(raised.value) == f"{archive}!BAD-1.json: affected[0].package: has no name"
    assert_intact(previous)


@pytest.mark.parametrize(("content", "message"), [
    (b'{"id": "X",', "invalid JSON: Expecting property name enclosed in double quotes"),
    (b'{"id": "\xc3\x28"}', "not UTF-8 text"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    (b'["not a record"]', "record is not a mapping"),
])
def test_unreadable_json_member(tmp_path: Path, content: bytes, message: str) -> None:
    folder = tmp_path / "records"
    folder.mkdir()
    (folder / "X.json").write_bytes(content)
    with pytest.raises(AdvisoryDataError) as raised:
        import_database(folder, tmp_path / "db", now=IMPORTED_AT)
    assert str(raised.value).startswith(f"{folder / 'X.json'}")
    assert message in str(raised.value)
    assert not (tmp_path / "db").exists()


@pytest.mark.parametrize(("name", "content", "message"), [
    # found by benchmarks/fuzz_inputs.py: a bare ValueError from int(), float() or date() (exit 70)
    ("X.json", b'{"id": "X",\n "modified": ' + b"1" * 5000 + b"}",
     ":2: invalid JSON: a number of more than 4300 digits"),
    ("X.yaml", b"id: X\nmodified: " + b"1" * 5000 + b"\n", ":2: invalid YAML: a number of more than 4300 digits"),
    ("X.yaml", b"id: X\nmodified: !!timestamp 2001-02-30\n", ": invalid YAML: day is out of range for month"),
    ("X.yaml", b"id: X\nseverity: !!float x\n", ": invalid YAML: could not convert string to float: 'x'"),
])
def test_values_yaml_and_json_cannot_convert(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    folder = tmp_path / "records"
    folder.mkdir()
    (folder / name).write_bytes(content)
    with pytest.raises(AdvisoryDataError) as raised:
        import_database(folder, tmp_path / "db", now=IMPORTED_AT)
    assert str(raised.value) == f"{folder / name}{message}"
    assert not (tmp_path / "db").exists()


def test_yaml_aliases_are_refused(tmp_path: Path) -> None:
    """Expanded into JSON for the digest, nested aliases would be a billion-laughs bomb."""
    folder = tmp_path / "records"
    folder.mkdir()
    (folder / "X.yaml").write_text("id: X\na: &a [x, x, x]\nb: &b [*a, *a, *a]\nc: [*b, *b, *b]\n")
    with pytest.raises(AdvisoryDataError) as raised:
        import_database(folder, tmp_path / "db", now=IMPORTED_AT)
    assert str(raised.value) == f"{folder / 'X.yaml'}:2: invalid YAML: YAML aliases are not allowed in advisory records"


def test_yaml_keeps_timestamps_and_versions_as_written(tmp_path: Path) -> None:
    folder = tmp_path / "records"
    folder.mkdir()
    (folder / "X.yaml").write_text("id: X\nmodified: 2021-07-02T02:41:00Z\naffected:\n- package: {ecosystem: PyPI, "
                                   "name: x}\n  ranges:\n  - type: ECOSYSTEM\n    events: [{introduced: 1.0}, "
                                   "{fixed: 2019-09-12}]\n")
    [(_, document)] = list(iter_documents(folder))
    assert document == {"id": "X", "modified": "2021-07-02T02:41:00Z", "affected": [
        {"package": {"ecosystem": "PyPI", "name": "x"},
         "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": 1.0}, {"fixed": "2019-09-12"}]}]}]}
    with pytest.raises(AdvisoryDataError, match=r"events\[0\]\.introduced: is not a version string"):
        import_database(folder, tmp_path / "db", now=IMPORTED_AT)  # an unquoted 1.0 is a float: lossy


def test_duplicate_ids_are_refused(tmp_path: Path) -> None:
    folder = tmp_path / "records"
    (folder / "a").mkdir(parents=True)
    (folder / "a" / "X.json").write_text('{"id": "X"}')
    (folder / "b.yaml").write_text("id: X\n")
    with pytest.raises(AdvisoryDataError) as raised:
        import_database(folder, tmp_path / "db", now=IMPORTED_AT)
    assert str(raised.value) == f"{folder / 'a' / 'X.json'}: advisory X appears twice (also in {folder / 'b.yaml'})"


def test_a_source_without_records_is_refused(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("nothing here")
    with pytest.raises(AdvisoryDataError) as raised:
        import_database(tmp_path, tmp_path / "db", now=IMPORTED_AT)
    assert str(raised.value) == f"{tmp_path}: no OSV records (.json, .yaml or .yml files) found"


def test_missing_source(tmp_path: Path) -> None:
    with pytest.raises(AdvisoryDataError) as raised:
        import_database(tmp_path / "nothing", tmp_path / "db", now=IMPORTED_AT)
    assert str(raised.value) == f"{tmp_path / 'nothing'}: no such file or directory"


def test_interrupted_import_leaves_previous_database(monkeypatch: pytest.MonkeyPatch,
                                                     previous: tuple[Path, bytes]) -> None:
    def interrupted(source: object, target: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        import_database(YAML_CHECKOUT, previous[0], now=IMPORTED_AT)
    monkeypatch.undo()
    assert_intact(previous)


def test_member_larger_than_the_limit(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(database_module, "MAX_MEMBER_BYTES", 900)
    archive = zip_folder(JSON_RECORDS, tmp_path / "all.zip")
    with zipfile.ZipFile(archive) as opened:
        [big] = [info for info in opened.infolist() if info.file_size > 900]  # TEST-2026-0008.json
    with pytest.raises(AdvisoryDataError) as raised:
        import_database(archive, tmp_path / "db", now=IMPORTED_AT)
    assert str(raised.value) == (f"{archive}!{big.filename}: {big.file_size:,} bytes uncompressed, over the 900-byte "
                                 "limit for a record")
    with pytest.raises(AdvisoryDataError, match="over the 900-byte limit for a record"):
        import_database(JSON_RECORDS, tmp_path / "db", now=IMPORTED_AT)


def test_member_whose_header_understates_its_size(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    archive = tmp_path / "all.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as out:
        out.writestr("X.json", '{"id": "X", "details": "' + "a" * 5000 + '"}')
    data = bytearray(archive.read_bytes())
    central = data.rindex(b"PK\x01\x02")
    data[central + 24:central + 28] = (100).to_bytes(4, "little")  # uncompressed size in the central directory
    archive.write_bytes(bytes(data))
    monkeypatch.setattr(database_module, "MAX_MEMBER_BYTES", 1000)
    with pytest.raises(AdvisoryDataError) as raised:
        import_database(archive, tmp_path / "db", now=IMPORTED_AT)
    assert str(raised.value).startswith(f"{archive}!X.json: ")


def test_total_size_limit(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(database_module, "MAX_TOTAL_BYTES", 5000)
    archive = zip_folder(JSON_RECORDS, tmp_path / "all.zip")
    with pytest.raises(AdvisoryDataError, match=r"^.*all\.zip: members add up to [\d,]+ bytes uncompressed, over"):
        import_database(archive, tmp_path / "db", now=IMPORTED_AT)


def test_member_count_limit_is_checked_before_the_central_directory(monkeypatch: pytest.MonkeyPatch,
                                                                     tmp_path: Path) -> None:
    archive = zip_folder(JSON_RECORDS, tmp_path / "all.zip")

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the central directory was parsed")

    monkeypatch.setattr(database_module, "MAX_MEMBERS", 3)
    monkeypatch.setattr(zipfile, "ZipFile", never)
    with pytest.raises(AdvisoryDataError) as raised:
        import_database(archive, tmp_path / "db", now=IMPORTED_AT)
    assert str(raised.value) == f"{archive}: more than 3 members"


def test_zip64_member_count(tmp_path: Path) -> None:
    archive = tmp_path / "many.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for index in range(70_000):  # past 65,535: the count lives in the zip64 record
            out.writestr(f"d/{index}/", b"")
    with archive.open("rb") as handle:
        assert database_module._zip_entry_count(handle) == 70_000


def test_encrypted_member(tmp_path: Path) -> None:
    archive = zip_folder(JSON_RECORDS, tmp_path / "all.zip")
    data = bytearray(archive.read_bytes())
    central = data.index(b"PK\x01\x02")
    data[central + 8] |= 0x1  # the "encrypted" flag bit
    archive.write_bytes(bytes(data))
    with pytest.raises(AdvisoryDataError, match="member is encrypted"):
        import_database(archive, tmp_path / "db", now=IMPORTED_AT)


# --- opening -------------------------------------------------------------------------------


def test_missing_database(tmp_path: Path) -> None:
    with pytest.raises(AdvisoryDataError) as raised:
        AdvisoryDatabase.open(tmp_path / "none.sqlite3")
    assert str(raised.value) == f"{tmp_path / 'none.sqlite3'}: {MISSING_MESSAGE}"
    assert MISSING_MESSAGE == "no advisory database; run `gate db import` or `gate db update`"


def test_corrupt_database(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(AdvisoryDataError) as raised:
        AdvisoryDatabase.open(path)
    assert str(raised.value) == f"{path}: not an advisory database (file is not a database)"


def test_foreign_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE t (x)")
    connection.close()
    with pytest.raises(AdvisoryDataError, match=r"not an advisory database \(no such table: meta\)"):
        AdvisoryDatabase.open(path)


def test_other_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    import_database(JSON_RECORDS, path, now=IMPORTED_AT)
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE meta SET value = '0' WHERE key = 'schema_version'")
    connection.close()
    with pytest.raises(AdvisoryDataError) as raised:
        AdvisoryDatabase.open(path)
    assert str(raised.value) == f"{path}: advisory database has schema 0, this gate reads schema 2; import it again"


def test_default_path(tmp_path: Path) -> None:
    assert default_database_path({"GATE_DB": str(tmp_path / "x.sqlite3")}) == tmp_path / "x.sqlite3"
    fallback = default_database_path({})
    assert fallback.name == "advisories.sqlite3"
    assert "promotion-gate" in fallback.parts


# --- matching ------------------------------------------------------------------------------


@pytest.mark.parametrize(("package", "expected"), [
    (pkg("demo-lib", "1.1.0"), [("demo-lib==1.1.0", "TEST-2026-0001", None)]),
    (pkg("demo-lib", "1.1.0+cu118"), [("demo-lib==1.1.0+cu118", "TEST-2026-0001", None)]),
    (pkg("demo-lib", "1.2.0"), []),  # fixed; the withdrawn TEST-2026-0007 would match every version
    (pkg("demo-lib", "1.0-foo-bar"), [("demo-lib==1.0-foo-bar", "TEST-2026-0001",
                                       "installed version '1.0-foo-bar' is not a PEP 440 version")]),
    (pkg("lastlib", "1.4.2"), [("lastlib==1.4.2", "TEST-2026-0002", None)]),
    (pkg("lastlib", "1.4.3"), []),
    (pkg("multirange", "2.0.0rc1"), [("multirange==2.0.0rc1", "TEST-2026-0003", None)]),
    (pkg("multirange", "2.0.0.dev1"), []),
    (pkg("multirange", "1.1.2+cu118"), [("multirange==1.1.2+cu118", "TEST-2026-0003", None)]),
    (pkg("splitlib", "2.0.5"), [("splitlib==2.0.5", "TEST-2026-0008", None)]),
    (pkg("splitlib", "1.5"), []),
    (pkg("otherlib", "8"), [("otherlib==8", "TEST-2026-0008", None)]),
    (pkg("gitonly", "1.0"), [("gitonly==1.0", "TEST-2026-0009", None)]),
    (pkg("gitonly", "1.1"), []),
    (pkg("gitnoversions", "1.1"), [("gitnoversions==1.1", "TEST-2026-0009",
                                    "advisory gives only GIT ranges, not PyPI versions")]),
    (pkg("torchish", "2.5.0"), [("torchish==2.5.0", "TEST-2026-0010", None)]),
    (pkg("torchish", "2.5.1"), [("torchish==2.5.1", "TEST-2026-0010",
                                 "advisory range bound '2.6.0-NA' is not a PEP 440 version")]),
    (pkg("datefixed", "0.5"), []),
    (pkg("datefixed", "1.5"), [("datefixed==1.5", "TEST-2026-0011",
                                "advisory range bound '2019-09-12' is not a PEP 440 version")]),
    (pkg("nodata", "1.0"), [("nodata==1.0", "TEST-2026-0012", "advisory names the package without affected versions")]),
    (pkg("badintro", "3.0.5"), [("badintro==3.0.5", "TEST-2026-0014", None)]),
    (pkg("badintro", "0.5"), [("badintro==0.5", "TEST-2026-0014",
                               "advisory range bound '1.0-beta-x' is not a PEP 440 version")]),
    (pkg("unknown-to-the-db", "1.0"), []),
])
def test_matches(database: AdvisoryDatabase, package: Package, expected: list[tuple[str, str, str | None]]) -> None:
    assert found(database.matches([package])) == expected


def test_matches_carry_the_advisory(database: AdvisoryDatabase) -> None:
    [match] = database.matches([pkg("demo_lib", "1.0.0", pypi_name="Demo.Lib")])
    advisory = match.advisory
    assert advisory.aliases == ("CVE-2026-0001", "GHSA-aaaa-bbbb-cccc")
    assert (advisory.severity.level, advisory.severity.score, advisory.severity.origin) == (
        Level.CRITICAL, 9.8, "CVSS_V3")
    assert advisory.fixed == ("1.2.0",)
    assert advisory.url == "https://example.invalid/advisories/TEST-2026-0001"
    assert advisory.published == "2026-03-01T00:00:00.5Z"
    [malicious] = database.matches([pkg("evil-pkg", "0.0.1")])
    assert malicious.advisory.malicious and malicious.advisory.severity.level is Level.MALICIOUS
    [ghsa] = database.matches([pkg("ghsalib", "2.9")])
    assert (ghsa.advisory.severity.level, ghsa.advisory.severity.origin) == (Level.MEDIUM, "database_specific")


def test_matches_many_packages_at_once_sorted(database: AdvisoryDatabase) -> None:
    packages = [pkg("splitlib", "0.5"), pkg("demo-lib", "1.0.0"), pkg("splitlib", "2.0.0"),
                pkg("no-version", None), pkg("conda-only", "1.0", pypi_name=None), pkg("demo-lib", "9")]
    assert found(database.matches(packages)) == [
        ("demo-lib==1.0.0", "TEST-2026-0001", None),
        ("splitlib==0.5", "TEST-2026-0008", None),
        ("splitlib==2.0.0", "TEST-2026-0008", None),
    ]
    assert database.matches([]) == []


def test_listed_versions_survive_compilation_only_where_needed(fixture_db: Path) -> None:
    """A listed version that the ranges match exactly is left out of the index."""
    with sqlite3.connect(fixture_db) as connection:
        rows = dict(connection.execute("SELECT name, entries FROM packages"))
    connection.close()
    assert json.loads(rows["demo-lib"])[0][2] == []  # 1.0.0 and 1.1.0 are inside [0, 1.2.0)
    assert json.loads(rows["torchish"])[0][2] == ["2.5.0"]  # the range is uncertain: the list decides
    assert json.loads(rows["gitonly"])[0][2:] == [["0.9", "1.0"], ["GIT"]]


def test_database_info_type(database: AdvisoryDatabase) -> None:
    assert isinstance(database.info, DatabaseInfo)
    assert database.info.records == FIXTURE_RECORDS - FIXTURE_WITHDRAWN


def test_closed_by_context_manager(fixture_db: Path) -> None:
    with AdvisoryDatabase.open(fixture_db) as opened:
        pass
    with pytest.raises(sqlite3.ProgrammingError):
        opened.matches([pkg("demo-lib", "1.0")])


def test_open_is_read_only(fixture_db: Path) -> None:
    before = os.stat(fixture_db).st_mtime_ns
    with AdvisoryDatabase.open(fixture_db) as opened:
        opened.matches([pkg("demo-lib", "1.0")])
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            opened._connection.execute("DELETE FROM meta")
    assert os.stat(fixture_db).st_mtime_ns == before


# --- lookups by ID (gate affected, gate monitor) ---------------------------------------------


def test_records_for_resolves_an_alias_to_its_record_and_ranges(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    import_database(JSON_RECORDS, path, now=IMPORTED_AT)
    with AdvisoryDatabase.open(path) as database:
        by_alias = database.records_for("CVE-2026-0004")
        by_id = database.records_for("ghsa-TST4-ghsa-sev4")
        assert database.records_for("CVE-1999-0000") == []
    assert [r.advisory.id for r in by_alias] == ["GHSA-tst4-ghsa-sev4"]
    assert by_alias == by_id
    (entry,) = by_alias[0].affected
    assert entry.name == "ghsalib"
    assert entry.ranges == ((("introduced", "0"), ("fixed", "3.0")),)


def test_withdrawn_records_are_kept_apart_from_matching(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    import_database(JSON_RECORDS, path, now=IMPORTED_AT)
    with AdvisoryDatabase.open(path) as database:
        assert database.withdrawn_ids() == {"TEST-2026-0007": ("TEST-2026-0007", "2026-02-01T00:00:00Z")}
        assert database.records_for("TEST-2026-0007") == []
        assert "TEST-2026-0007" not in {m.advisory.id for m in database.matches([pkg("demo-lib", "1.0")])}


def test_a_database_without_the_id_tables_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    import_database(JSON_RECORDS, path, now=IMPORTED_AT)
    with sqlite3.connect(path) as connection:
        connection.execute("DROP TABLE ids")
    connection.close()
    with pytest.raises(AdvisoryDataError, match=r"not an advisory database \(no such table: ids\)"):
        AdvisoryDatabase.open(path)
