"""The command line: parse arguments, run reader → evaluator → renderers, write files
atomically, and map errors to exit codes. The only module that exits."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, NoReturn

import click

import gate
from gate.clock import Clock, FixedClock, SystemClock, parse_instant
from gate.errors import (
    AdvisoryDataError,
    GateError,
    InputError,
    PolicyError,
    ServiceError,
    SignatureError,
)
from gate.fileio import dump_json, write_text_atomic
from gate.model import NO_ENVIRONMENT_KIND, DatabaseInfo, Decision, Environment, ModelFile, Target
from gate.targets import PLATFORMS, parse_target

EXIT_PASS = 0
EXIT_BLOCKED = 1
EXIT_USAGE = 2
EXIT_INVALID_INPUT = 3
EXIT_ADVISORY_DATA = 4
EXIT_SIGNATURE = 5
EXIT_SERVICE = 6
EXIT_INTERNAL = 70  # sysexits' EX_SOFTWARE: a bug in the gate, never a verdict
EXIT_INTERRUPTED = 130
DEBUG_VARIABLE = "GATE_DEBUG"

FORMATS = ("text", "json", "markdown", "sarif", "gitlab")  # what gate check --format prints on stdout
SARIF_FILE = "results.sarif"
GITLAB_FILE = "gl-dependency-scanning-report.json"

_EXIT_FOR_ERROR: tuple[tuple[type[GateError], int], ...] = (
    (InputError, EXIT_INVALID_INPUT),
    (PolicyError, EXIT_INVALID_INPUT),
    (AdvisoryDataError, EXIT_ADVISORY_DATA),
    (SignatureError, EXIT_SIGNATURE),
    (ServiceError, EXIT_SERVICE),
)


def _clock(now: str | None) -> Clock:
    if now is None:
        return SystemClock()
    try:
        return FixedClock(parse_instant(now))
    except ValueError:
        raise click.BadParameter(f"{now!r} is not an RFC 3339 timestamp", param_hint="--now") from None


def _database_path(db: Path | None) -> Path:
    from gate.advisories import default_database_path

    return db if db is not None else default_database_path()


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(gate.__version__, prog_name="gate")
def cli() -> None:
    """Promotion Gate: decide whether a Python/ML environment may be promoted.

    \b
    Exit codes: 0 promote, 1 blocked by policy, 2 usage error, 3 invalid input or policy,
    4 advisory data unusable (missing, corrupt, too old), 5 signature or key problem,
    6 a needed service unreachable, 70 internal error (a bug in the gate). Codes 2-6 and 70
    mean no verdict was reached.
    """


_DB_OPTION = click.option("--db", type=click.Path(path_type=Path, dir_okay=False), envvar="GATE_DB",
                          help="Compiled advisory database [env: GATE_DB; default: the user cache dir].")
_NOW_OPTION = click.option("--now", metavar="TIMESTAMP",
                           help="Judge as of this RFC 3339 instant instead of the clock (reproducible runs).")


@cli.command()
@click.option("--env", "env_path", type=click.Path(path_type=Path, file_okay=False),
              help="A virtualenv directory or a site-packages directory. Its interpreter is never run.")
@click.option("--lockfile", "lockfiles", multiple=True, type=click.Path(path_type=Path, dir_okay=False),
              help="A lockfile (requirements, pylock.toml, uv.lock, poetry.lock, Pipfile.lock, pdm.lock, conda "
              "environment/explicit/lock, CycloneDX JSON); the format is read from the content. Repeatable.")
@click.option("--target", "target_text", metavar="python=X.Y,platform=NAME",
              help="Judge what applies to this interpreter and platform (overrides the policy's target). "
              f"Platforms: {', '.join(PLATFORMS)}.")
@click.option("--groups", "groups", multiple=True, metavar="NAME[,NAME...]",
              help="Also judge these dependency groups (dev, docs, optional:EXTRA, ...). Default: runtime only.")
@click.option("--policy", "policy_arg", default="production", show_default=True,
              help="Policy file, or the name of a shipped policy: sandbox, staging, production.")
@_DB_OPTION
@click.option("--out", type=click.Path(path_type=Path, file_okay=False),
              help="Write result.json, report.md, sbom.cdx.json, record.dsse.json, results.sarif and "
              "gl-dependency-scanning-report.json (+ environment.json for an installed environment) into this "
              "directory.")
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="text", show_default=True,
              help="What to print on stdout: the summary lines (text), result.json (json), report.md (markdown), "
              "SARIF 2.1.0 (sarif) or the GitLab dependency-scanning report (gitlab). With any but text, the "
              "summary lines go to stderr.")
@click.option("--baseline", "baseline_path", type=click.Path(path_type=Path), metavar="FILE",
              help="What was approved before, for the policy's drift section: the result.json of an earlier "
              "check --out, a lockfile, or an environment directory.")
@_NOW_OPTION
@click.option("--offline", is_flag=True,
              help="Do not ask the package index (policy section `registry`): use cached answers no older than "
              "registry.cache_max_age_hours, else stop with exit 6.")
@click.option("--models", "model_paths", multiple=True, type=click.Path(path_type=Path),
              help="A model file or a folder of them to inventory, hash and scan statically (never unpickled), "
              "judged by the policy's models section; with the policy's models.paths. Repeatable.")
@click.option("--keyless", is_flag=True,
              help="Also sign the record keylessly with Sigstore: record.sigstore.json (bundle v0.3) beside "
              "record.dsse.json. Needs --out, the extra promotion-gate[sigstore] and an OIDC token (SIGSTORE_ID_TOKEN, "
              "or GitHub Actions with id-token: write); exit 5 without them, 6 if Sigstore is unreachable.")
def check(env_path: Path | None, lockfiles: tuple[Path, ...], target_text: str | None, groups: tuple[str, ...],
          policy_arg: str, db: Path | None, out: Path | None, output_format: str, baseline_path: Path | None,
          now: str | None, model_paths: tuple[Path, ...], offline: bool, keyless: bool) -> int:
    """Check an environment or lockfiles against a stage policy and the advisory database."""
    from gate.advisories import AdvisoryDatabase
    from gate.policy import load_policy, resolve_policy_argument
    from gate.policy.evaluate import evaluate
    from gate.report import render_markdown, result_document, summary_lines
    from gate.sources import read_lockfiles, reader_for_environment
    from gate.sources.selection import select

    if env_path is not None and lockfiles:
        raise click.UsageError("give either --env PATH or one or more --lockfile FILE, not both")
    clock = _clock(now)
    started_at = clock.now()
    target = _target(target_text)
    if keyless and out is None:
        raise click.UsageError("--keyless signs the record: give --out DIR")
    policy = load_policy(resolve_policy_argument(policy_arg))
    all_model_paths = [*model_paths, *(Path(p) for p in (policy.models.paths if policy.models else ()))]
    if env_path is None and not lockfiles and not all_model_paths:
        raise click.UsageError("give --env PATH, one or more --lockfile FILE, or model files with --models PATH")
    if out is None and policy.record is not None and policy.record.require_signature:
        raise SignatureError("the policy requires a signed record (record.require_signature): give --out DIR "
                             "(and GATE_SIGNING_KEY) so the decision is recorded", where=policy.path)
    target = target or policy.target
    if env_path is not None:
        candidate = reader_for_environment(env_path).read(env_path, target=target)
    elif lockfiles:
        candidate = read_lockfiles(list(lockfiles), target=target)
    else:  # model files alone: an empty environment, judged by the same policy
        candidate = Environment.create(source="(no environment: model files only)", kind=NO_ENVIRONMENT_KIND,
                                       target=target or Target(), packages=[])
    wanted_groups = [name.strip() for value in groups for name in value.split(",") if name.strip()]
    environment = select(candidate, target=target, groups=wanted_groups).environment
    baseline = None
    if baseline_path is not None:
        from gate.sources.baseline import load_baseline

        baseline = load_baseline(baseline_path, target=environment.target, groups=wanted_groups)
    modified_files = None
    if env_path is not None and policy.drift is not None and "modified_files" in policy.drift.forbid:
        from gate.sources.record_check import verify_installed_files

        modified_files = verify_installed_files(env_path)
    matches = []
    database_info = None
    if policy.vulnerabilities is not None:
        with AdvisoryDatabase.open(_database_path(db)) as database:
            database_info = database.info
            matches = database.matches(environment.packages)
    registry = None
    if policy.registry is not None:
        from gate.registry import fetch_registry_facts

        # Licences from the index only for lockfiles: an installed package's own METADATA is the same file.
        registry = fetch_registry_facts(environment, policy.registry, offline=offline,
                                        licenses=policy.licenses is not None and env_path is None)
    models: tuple[ModelFile, ...] = ()
    if all_model_paths:
        from gate.models import inventory

        models = inventory(all_model_paths)
    decision = evaluate(environment=environment, policy=policy, matches=matches, database=database_info,
                        now=clock.now(), registry=registry, baseline=baseline, modified_files=modified_files,
                        models=models)
    document = result_document(decision)
    if out is not None:
        from gate.sbom import render_sbom  # only when writing

        outputs = {
            "result.json": dump_json(document),
            "report.md": render_markdown(decision),
            "sbom.cdx.json": render_sbom(decision),
            **{name: render(document) for name, render in _file_renderers().items()},
        }
        _write_record(out, outputs, decision, lockfiles=lockfiles, started_at=started_at, finished_at=clock.now(),
                      require_signature=policy.record is not None and policy.record.require_signature,
                      keyless=keyless)
        for name, text in outputs.items():
            _write(out / name, text)
    if output_format == "text":
        for line in summary_lines(decision):
            click.echo(line)
    else:
        for line in summary_lines(decision):
            click.echo(line, err=True)
        click.echo(_stdout_document(output_format, decision, document), nl=False)
    return EXIT_BLOCKED if decision.blocking else EXIT_PASS


def _places() -> dict[str, str]:
    """Where the check runs (relative paths in the result are relative to it) and the checkout
    (SARIF and the GitLab report point at repository-relative paths): the CI's workspace
    variable when set, else the working directory."""
    import os

    cwd = os.getcwd()
    return {"root": os.environ.get("GITHUB_WORKSPACE") or os.environ.get("CI_PROJECT_DIR") or cwd, "base": cwd}


def _file_renderers() -> dict[str, Callable[[dict[str, Any]], str]]:
    from gate.report.gitlab import render_gitlab
    from gate.report.sarif import render_sarif

    places = _places()
    return {
        SARIF_FILE: lambda document: render_sarif(document, **places),
        GITLAB_FILE: lambda document: render_gitlab(document, **places),
    }


def _stdout_document(output_format: str, decision: Decision, document: dict[str, Any]) -> str:
    if output_format == "json":
        return dump_json(document)
    if output_format == "markdown":
        from gate.report import render_markdown

        return render_markdown(decision)
    return _file_renderers()[SARIF_FILE if output_format == "sarif" else GITLAB_FILE](document)


def _write_record(out: Path, outputs: dict[str, str], decision: Decision, *, lockfiles: tuple[Path, ...],
                  started_at: dt.datetime, finished_at: dt.datetime, require_signature: bool,
                  keyless: bool = False) -> None:
    """Add record.dsse.json (and environment.json for an installed environment; record.sigstore.json when
    ``keyless``) to ``outputs``.

    Built before anything is written, so a missing required key, a missing OIDC token or an unreachable
    Sigstore leaves no outputs at all."""
    import os

    from gate.record import ENVIRONMENT_JSON, RECORD_JSON, Subject, environment_manifest, make_record

    subjects = []
    if lockfiles:
        for path in lockfiles:
            try:
                subjects.append(Subject(name=str(path), data=path.read_bytes()))
            except OSError as error:
                raise InputError(f"cannot read lockfile: {error.strerror}", where=path) from None
    else:
        manifest = environment_manifest(decision.environment)
        outputs[ENVIRONMENT_JSON] = manifest.decode("utf-8")
        subjects.append(Subject(name=ENVIRONMENT_JSON, data=manifest))
    for name in ("sbom.cdx.json", "report.md"):
        if name in outputs:
            subjects.append(Subject(name=name, data=outputs[name].encode("utf-8")))
    for model in decision.models:  # hashed while scanned: the record pins the exact weights judged
        if model.sha256:
            subjects.append(Subject(name=model.path, digest=model.sha256))
    record = make_record(decision, subjects=subjects, environ=os.environ, started_at=started_at,
                         finished_at=finished_at, require_signature=require_signature)
    outputs[RECORD_JSON] = record.text
    if keyless:
        from gate.record.keyless import BUNDLE_JSON, record_payload, sign_keyless

        # The same payload bytes as record.dsse.json; written with the other outputs (atomically, beside it).
        outputs[BUNDLE_JSON] = sign_keyless(record_payload(record.text), identity_token=None, environ=os.environ)
    if record.note is not None:
        click.echo(f"gate: note: {_log_safe(record.note)}", err=True)


def _target(text: str | None) -> Target | None:
    if text is None:
        return None
    try:
        return parse_target(text)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--target") from None


def _write(path: Path, text: str) -> None:
    try:
        write_text_atomic(path, text)
    except OSError as error:
        raise InputError(f"cannot write output: {error.strerror}", where=path) from None


@cli.command()
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), required=True,
              help="Folder for gate-signing-key.pem (mode 0600) and gate-signing-key.pub.pem.")
def keygen(out: Path) -> int:
    """Make an Ed25519 signing key pair for records (store the private key as GATE_SIGNING_KEY)."""
    from gate.record import generate_keypair

    private_path, public_path, keyid = generate_keypair(out)
    click.echo(f"private key: {private_path} (keep it secret: a masked CI variable GATE_SIGNING_KEY)")
    click.echo(f"public key:  {public_path}")
    click.echo(f"keyid:       {keyid}")
    return EXIT_PASS


@cli.command()
@click.argument("record_path", metavar="RECORD", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--key", "key_paths", multiple=True, required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="A pinned public key (PEM). Repeatable: every key is tried.")
@click.option("--subject", "subject_paths", multiple=True, type=click.Path(path_type=Path, dir_okay=False),
              help="A file whose sha256 must be a subject of the record. Repeatable.")
def verify(record_path: Path, key_paths: tuple[Path, ...], subject_paths: tuple[Path, ...]) -> int:
    """Verify a record.dsse.json: exit 0 valid and pass, 1 valid and fail, 5 invalid."""
    from gate.record import load_public_key, verify_record

    result = verify_record(record_path, [load_public_key(path) for path in key_paths], subjects=subject_paths)
    click.echo(f"record:   {record_path}: valid, signed by key {result.keyid}")
    click.echo(f"decision: {result.decision}")
    click.echo(f"policy:   {result.policy['path']} ({result.policy['digest']}, stage {result.policy['stage']})")
    click.echo(f"date:     {result.checked_at}")
    for name, value in sorted(result.ci.items()):
        click.echo(f"ci.{name + ':':<11} {value}")
    for path in subject_paths:
        click.echo(f"subject:  {path}: matches")
    return EXIT_PASS if result.passed else EXIT_BLOCKED


def _record_payload(path: Path, key_paths: tuple[Path, ...], *, what: str) -> bytes:
    """The statement bytes of a record file: verified against the pinned keys when given, else read
    unverified with a note saying so (replay and drift accept both; inventory add does not)."""
    from gate.record import load_public_key, read_record, unverified_payload, verify_envelope

    document = read_record(path)
    if key_paths:
        return verify_envelope(document, [load_public_key(key) for key in key_paths], where=str(path)).payload
    click.echo(f"gate: note: {what}'s signature was not checked (give --key to check it)", err=True)
    return unverified_payload(document, where=str(path))


@cli.command()
@click.argument("record_path", metavar="RECORD", type=click.Path(path_type=Path, dir_okay=False))
@_DB_OPTION
@click.option("--key", "key_paths", multiple=True, type=click.Path(path_type=Path, dir_okay=False),
              help="Verify the record with these pinned public keys first (recommended).")
def replay(record_path: Path, db: Path | None, key_paths: tuple[Path, ...]) -> int:
    """Judge a record's environment again with its policy against a (newer) advisory database."""
    from gate.record import decode_statement, replay

    where = str(record_path)
    payload = _record_payload(record_path, key_paths, what="the record")
    result = replay(decode_statement(payload, where=where), _database_path(db), where=where)
    same = "same database" if result.same_database else f"database {result.db_digest} (recorded: "\
        f"{result.recorded_db_digest})"
    click.echo(f"replayed with {same}: decision {result.verdict} (recorded: {result.recorded_verdict})")
    for label, items in (("new", result.added), ("gone", result.removed)):
        for item in items:
            what = item.get("id") or item.get("rule")
            click.echo(f"  {label}: {what} {item.get('package') or ''} {item.get('version') or ''} "
                       f"[{item.get('status')}]".rstrip())
    for item in result.carried:
        click.echo(f"  not replayed (carried over): {item.get('rule')} {item.get('package') or ''} "
                   f"[{item.get('status')}]")
    if result.same_database and not result.reproduced:
        click.echo("gate: the same database gave a different outcome: the record is not reproducible", err=True)
        return EXIT_BLOCKED
    return EXIT_BLOCKED if result.verdict == "fail" else EXIT_PASS


_INVENTORY_OPTION = click.option(
    "--inventory", "inventory_location", envvar="GATE_INVENTORY", metavar="PATH|URL",
    help="The inventory: a SQLite file, or postgresql://USER@HOST/DB (extra promotion-gate[postgres]) "
    "[env: GATE_INVENTORY; default: inventory.sqlite3 in the user data dir].")


@cli.group()
def inventory() -> None:
    """The organisation-wide inventory of verified records (SQLite or PostgreSQL)."""


@inventory.command("add")
@click.argument("record_paths", metavar="RECORD...", nargs=-1, required=True,
                type=click.Path(path_type=Path, dir_okay=False))
@click.option("--key", "key_paths", multiple=True, required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="A pinned public key (PEM). Repeatable: every key is tried.")
@_INVENTORY_OPTION
@click.option("--name", help="The environment's name in the inventory (default: what the check read, as recorded: "
              "the lockfile path(s) or the environment directory).")
@_NOW_OPTION
def inventory_add(record_paths: tuple[Path, ...], key_paths: tuple[Path, ...], inventory_location: str | None,
                  name: str | None, now: str | None) -> int:
    """Verify records against pinned keys, then store them (environment, packages, findings, decision, CI).

    Every record is verified before anything is written: one that fails refuses the whole add
    (exit 5, nothing written). Each record is then written in its own transaction; adding a
    record that is already there changes nothing."""
    from gate.inventory import Inventory, RecordEntry
    from gate.record import load_public_key, verify_record
    from gate.report.escape import terminal_text

    clock = _clock(now)
    keys = [load_public_key(path) for path in key_paths]
    entries = []
    for path in record_paths:
        try:
            verified = verify_record(path, keys)
        except SignatureError as error:
            raise SignatureError(f"{error.message}; nothing was added", where=error.where) from None
        # Only the verified bytes are kept until the writes: a batch of 1,000 statements parsed is a gigabyte.
        entries.append(RecordEntry(payload=verified.payload, signatures=verified.signatures, keyid=verified.keyid,
                                   source=str(path), name=name))
    added = 0
    with Inventory.open(inventory_location) as store:
        for entry in entries:
            result = store.add(entry, now=clock.now())
            added += result.added
            state = "added" if result.added else "already present"
            click.echo(f"{state}: {entry.source} → {terminal_text(result.identity.label)} "
                       f"({result.digest[:19]}…{', newest' if result.newest else ''})")
        click.echo(f"{added} added, {len(entries) - added} already present; inventory {store.where}")
    return EXIT_PASS


@inventory.command("list")
@_INVENTORY_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def inventory_list(inventory_location: str | None, as_json: bool) -> int:
    """List the environments: identity, record count, and their newest record."""
    from gate.inventory import Inventory

    with Inventory.open(inventory_location) as store:
        summaries = store.environments()
    rows: list[dict[str, Any]] = [
        {"repository": s.identity.repository, "stage": s.identity.stage, "environment": s.identity.name,
             "records": s.records, "newest_record": s.newest_digest, "checked_at": s.checked_at,
             "decision": s.decision, "commit": s.commit, "packages": s.packages, "blocking": s.blocking}
            for s in summaries]
    if as_json:
        click.echo(dump_json({"environments": rows}), nl=False)
        return EXIT_PASS
    _table(["repository", "stage", "environment", "records", "newest", "decision", "commit", "packages"],
           [[r["repository"], r["stage"], r["environment"], r["records"], r["checked_at"], r["decision"],
             (r["commit"] or "")[:12], r["packages"]] for r in rows])
    return EXIT_PASS


def _table(header: list[str], rows: list[list[object]]) -> None:
    """A plain aligned table; every cell through terminal_text (the values come from records)."""
    from gate.report.escape import terminal_text

    cells = [header, *[[terminal_text(value if value is not None else "", 80) for value in row] for row in rows]]
    widths = [max(len(row[index]) for row in cells) for index in range(len(header))]
    for row in cells:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


@cli.command()
@click.argument("query", metavar="ID | NAME[==VERSION | SPEC]")
@_INVENTORY_OPTION
@_DB_OPTION
@click.option("--all-records", is_flag=True, help="Search every record, not only each environment's newest.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def affected(query: str, inventory_location: str | None, db: Path | None, all_records: bool, as_json: bool) -> int:
    """Which environments carry an advisory (any of its IDs) or a package version.

    \b
    gate affected GHSA-9wx4-h78v-vm56        # any alias: CVE-..., PYSEC-...
    gate affected torch                      # every version
    gate affected 'torch<2.6'                # a PEP 440 specifier
    Exit 0: no environment carries it; 1: some do; 3: unknown ID or bad query."""
    from gate.inventory import Inventory
    from gate.inventory.affected import by_advisory, by_package, looks_like_advisory_id
    from gate.report.escape import terminal_text

    if looks_like_advisory_id(query):
        from gate.advisories import AdvisoryDatabase

        path = _database_path(db)
        with AdvisoryDatabase.open(path) as database:
            records = database.records_for(query)
            withdrawn = database.withdrawn_ids().get(query.strip()) if not records else None
        if not records and withdrawn is None:
            raise InputError(f"{query} is not an ID or alias of any advisory in the database", where=path)
        with Inventory.open(inventory_location) as store:
            answer = by_advisory(store, records, query=query, all_records=all_records, withdrawn=withdrawn)
    else:
        with Inventory.open(inventory_location) as store:
            answer = by_package(store, query, all_records=all_records)
    if as_json:
        # Compact (the C encoder): an emergency query over thousands of environments must not wait on
        # indentation. Sorted keys, one line: pipe it through `jq` to read.
        click.echo(json.dumps(answer.document(), sort_keys=True, ensure_ascii=False, separators=(",", ":")))
    else:
        for advisory in answer.advisories:
            ranges = "; ".join(f"{entry['package']} " + ", ".join(
                " ".join(f"{k}={v}" for event in events for k, v in event.items()) for events in entry["ranges"])
                for entry in advisory["affected"])
            click.echo(f"{advisory['id']} ({', '.join(advisory['aliases'])}) [{advisory['severity']}]: "
                       f"{terminal_text(advisory['summary'], 120)}")
            click.echo(f"  affects: {terminal_text(ranges, 400)}")
        for note in answer.notes:
            click.echo(f"note: {terminal_text(note)}")
        if answer.hits:
            _table(["repository", "stage", "environment", "commit", "record date", "decision", "package"],
                   [[h.carrier.identity.repository, h.carrier.identity.stage, h.carrier.identity.name,
                     (h.carrier.commit or "")[:12], h.carrier.checked_at, h.carrier.decision,
                     h.pin + (f" ({', '.join(h.advisories)})" if len(answer.advisories) > 1 else "")
                     + (f" [uncertain: {h.uncertain}]" if h.uncertain else "")] for h in answer.hits])
        click.echo(f"{answer.environments} environment(s) affected"
                   + (" (every record searched)" if all_records else " (newest record of each)"))
    return EXIT_BLOCKED if answer.hits else EXIT_PASS


@cli.command()
@click.argument("inputs", metavar="[RECORD|SBOM]...", nargs=-1, type=click.Path(path_type=Path, dir_okay=False))
@_INVENTORY_OPTION
@_DB_OPTION
@click.option("--expiring-days", default=14, show_default=True, type=click.IntRange(min=0),
              help="Report waivers that expire within this many days.")
@click.option("--format", "output_format", type=click.Choice(["markdown", "json"]), default="markdown",
              show_default=True)
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), help="Write the report to this file.")
@click.option("--webhook", metavar="URL", help="POST the JSON report to this URL (one request per run).")
@click.option("--issues", "issue_forge", type=click.Choice(["github", "gitlab"]), default=None,
              help="Open one issue per changed environment in this repository/project, updated (not duplicated) on "
              "later runs: GITHUB_TOKEN + GITHUB_REPOSITORY (permissions: issues: write), or GATE_GITLAB_TOKEN + "
              "CI_API_V4_URL + CI_PROJECT_ID.")
@click.option("--key", "key_paths", multiple=True, type=click.Path(path_type=Path, dir_okay=False),
              help="Verify RECORD files with these pinned public keys (inventory records were verified on add).")
@click.option("--policy", "policy_arg", default="production", show_default=True,
              help="The policy SBOMs are judged by (records carry their own).")
@click.option("--fail-stage", "fail_stages", multiple=True, default=("production",), show_default=True,
              help="Exit 1 when an environment of this stage is newly blocked. Repeatable.")
@_NOW_OPTION
def monitor(inputs: tuple[Path, ...], inventory_location: str | None, db: Path | None, expiring_days: int,
            output_format: str, out: Path | None, webhook: str | None, issue_forge: str | None,
            key_paths: tuple[Path, ...], policy_arg: str, fail_stages: tuple[str, ...], now: str | None) -> int:
    """Judge every inventory environment (its newest record), or the given records/SBOMs, again by its
    recorded policy against the current advisory database, and report what changed since its decision.

    \b
    Exit 0: no environment of a failing stage is newly blocked; 1: one is (a new blocking
    finding, a waiver expired...); 3/4: bad input or advisory data; 6: the webhook failed."""
    from gate.advisories import AdvisoryDatabase
    from gate.monitor import Subject
    from gate.monitor import monitor as run_monitor
    from gate.monitor.inputs import from_inventory, from_record, from_sbom, is_record
    from gate.monitor.render import render_json, render_markdown

    clock = _clock(now)
    instant = clock.now()
    notes: list[str] = []
    listed: list[Subject] = []
    if inputs:
        from gate.record import load_public_key

        keys = [load_public_key(path) for path in key_paths]
        sbom_policy = None
        for path in inputs:
            if is_record(path):
                subject, note = from_record(path, keys)
                if note:
                    notes.append(note)
                    click.echo(f"gate: note: {_log_safe(note)}", err=True)
            else:
                if sbom_policy is None:
                    from gate.policy import load_policy, resolve_policy_argument

                    sbom_policy = load_policy(resolve_policy_argument(policy_arg))
                subject = from_sbom(path, sbom_policy, now=instant)
            listed.append(subject)
    with contextlib.ExitStack() as stack:
        database = stack.enter_context(AdvisoryDatabase.open(_database_path(db)))
        subjects: Iterable[Subject] = listed
        if not inputs:
            from gate.inventory import Inventory

            # Streamed: each environment is read, judged and dropped in turn.
            subjects = from_inventory(stack.enter_context(Inventory.open(inventory_location)))
        report = run_monitor(subjects, database, now=instant, expiring_days=expiring_days,
                             failing_stages=fail_stages, notes=notes)
    text = render_json(report) if output_format == "json" else render_markdown(report)
    if out is not None:
        _write(out, text)
        summary = report.document()["summary"]
        click.echo(f"monitor: {summary['environments']} environment(s), {summary['changed']} changed, "
                   f"{summary['newly_blocking']} newly blocking, {summary['failing']} of a failing stage; "
                   f"report: {out}")
    else:
        click.echo(text, nl=False)
    if webhook:
        from gate.monitor.notify import WebhookNotifier

        WebhookNotifier(webhook).send(report)
    if issue_forge is not None:
        import os

        from gate.ci.comment import github_forge, gitlab_forge
        from gate.ci.issues import ForgeIssueSink
        from gate.monitor.notify import IssueNotifier

        forge = github_forge(os.environ, permission="issues: write") if issue_forge == "github" \
            else gitlab_forge(os.environ)
        sink = ForgeIssueSink(forge)
        IssueNotifier(sink).send(report)
        click.echo(f"monitor: issues opened: {len(sink.created)}, updated: {len(sink.updated)}", err=True)
    return EXIT_BLOCKED if report.failed else EXIT_PASS


@cli.command()
@click.option("--env", "env_path", required=True, type=click.Path(path_type=Path, file_okay=False),
              help="The running environment (a virtualenv or site-packages directory). Its interpreter is never run.")
@click.option("--baseline", "baseline_path", required=True, type=click.Path(path_type=Path), metavar="RECORD",
              help="What was promoted: its record.dsse.json (or its result.json, a lockfile, an environment).")
@click.option("--policy", "policy_arg", default=None,
              help="Judge by this policy's drift section [default: the record's recorded policy; production for a "
              "result.json or lockfile baseline].")
@click.option("--key", "key_paths", multiple=True, type=click.Path(path_type=Path, dir_okay=False),
              help="Verify a record baseline with these pinned public keys first (recommended).")
@_NOW_OPTION
def drift(env_path: Path, baseline_path: Path, policy_arg: str | None, key_paths: tuple[Path, ...],
          now: str | None) -> int:
    """Compare a running environment with the record that promoted it: exit 1 on drift the policy forbids."""
    from gate.monitor.inputs import is_record
    from gate.policy import load_policy, policy_from_effective, resolve_policy_argument
    from gate.policy.evaluate import evaluate
    from gate.report import summary_lines
    from gate.sources import reader_for_environment
    from gate.sources.baseline import load_baseline
    from gate.sources.selection import select

    clock = _clock(now)
    effective: dict[str, object] | None = None
    policy_path = policy_arg or "production"
    if policy_arg is not None:
        effective = load_policy(resolve_policy_argument(policy_arg)).effective
        _require_drift(effective, policy_path)
    if baseline_path.is_file() and is_record(baseline_path):
        from gate.record import decode_statement
        from gate.record.replay import recorded_check

        where = str(baseline_path)
        payload = _record_payload(baseline_path, key_paths, what="the baseline record")
        statement = decode_statement(payload, where=where)
        baseline = recorded_check(statement, where=where).environment
        if policy_arg is None:
            effective = statement["predicate"]["policy"]["effective"]
            policy_path = f"{where} (recorded policy)"
    if effective is None:
        effective = load_policy(resolve_policy_argument(policy_path)).effective
    _require_drift(effective, policy_path)
    policy = policy_from_effective({"drift": effective["drift"], "target": effective.get("target")}
                                   if effective.get("target") else {"drift": effective["drift"]}, path=policy_path)
    candidate = reader_for_environment(env_path).read(env_path, target=policy.target)
    environment = select(candidate, target=policy.target).environment
    if not (baseline_path.is_file() and is_record(baseline_path)):
        baseline = load_baseline(baseline_path, target=environment.target)
    modified_files = None
    if policy.drift is not None and "modified_files" in policy.drift.forbid:
        from gate.sources.record_check import verify_installed_files

        modified_files = verify_installed_files(env_path)
    decision = evaluate(environment=environment, policy=policy, matches=[], database=None, now=clock.now(),
                        baseline=baseline, modified_files=modified_files)
    for line in summary_lines(decision):
        click.echo(line)
    return EXIT_BLOCKED if decision.blocking else EXIT_PASS


def _require_drift(effective: dict[str, object], where: str) -> None:
    if effective.get("drift") is None:
        raise PolicyError("the policy has no drift section, so no drift is forbidden: give --policy with one",
                          where=where)


@cli.group()
def db() -> None:
    """Manage the offline advisory database."""


@db.command("import")
@click.argument("source", type=click.Path(path_type=Path, exists=True))
@_DB_OPTION
@_NOW_OPTION
def db_import(source: Path, db: Path | None, now: str | None) -> int:
    """Compile OSV records (a directory of YAML/JSON at any depth, or a zip) into the database.

    The previous database stays intact if the import fails."""
    from gate.advisories import import_database

    path = _database_path(db)
    info = import_database(source, path, now=_clock(now).now())
    _echo_info(path, info, now=None)
    return EXIT_PASS


@db.command("update")
@click.option("--url", default=None, help="Where to download OSV's PyPI all.zip from (an internal mirror).")
@_DB_OPTION
@_NOW_OPTION
def db_update(url: str | None, db: Path | None, now: str | None) -> int:
    """Download OSV's PyPI advisories (all.zip) and import them."""
    import tempfile

    from gate.advisories import import_database
    from gate.advisories.download import OSV_PYPI_ALL_ZIP, download

    path = _database_path(db)
    path.parent.mkdir(parents=True, exist_ok=True)
    source_url = url or OSV_PYPI_ALL_ZIP
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".gate-download-") as folder:
        archive = Path(folder) / "all.zip"
        with click.progressbar(length=0, label=f"downloading {source_url}", file=sys.stderr,
                               show_pos=True) as bar:
            def progress(done: int, total: int | None) -> None:
                if total:
                    bar.length = total
                bar.update(done - bar.pos)

            download(source_url, archive, progress=progress)
        info = import_database(archive, path, now=_clock(now).now(), source_label=source_url)
    _echo_info(path, info, now=None)
    return EXIT_PASS


@db.command("info")
@_DB_OPTION
@_NOW_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the information as JSON.")
def db_info(db: Path | None, now: str | None, as_json: bool) -> int:
    """Show the database's source, record count, newest record, digest and age."""
    from gate.advisories import AdvisoryDatabase

    path = _database_path(db)
    with AdvisoryDatabase.open(path) as database:
        info = database.info
    _echo_info(path, info, now=_clock(now), as_json=as_json)
    return EXIT_PASS


def _echo_info(path: Path, info: DatabaseInfo, *, now: Clock | None, as_json: bool = False) -> None:
    age_days = None
    if now is not None and info.newest_modified is not None:
        age_days = int((now.now() - parse_instant(info.newest_modified)).total_seconds() // 86400)
    document = {
        "database": str(path), "source": info.source, "records": info.records,
        "newest_modified": info.newest_modified, "digest": info.digest, "imported_at": info.imported_at,
    }
    if now is not None:
        document["age_days"] = age_days
    if as_json:
        click.echo(dump_json(document), nl=False)
        return
    for key, value in document.items():
        click.echo(f"{key + ':':<16} {value}")


@cli.group()
def policy() -> None:
    """Inspect and validate policy files."""


@policy.command("schema")
def policy_schema() -> int:
    """Print the JSON Schema that policy files are validated against."""
    from gate.policy import POLICY_SCHEMA

    click.echo(dump_json(POLICY_SCHEMA), nl=False)
    return EXIT_PASS


@policy.command("check")
@click.argument("policy_arg", metavar="POLICY")
def policy_check(policy_arg: str) -> int:
    """Validate a policy (and what it extends) and print the effective merged policy."""
    import yaml

    from gate.policy import load_policy, resolve_policy_argument

    loaded = load_policy(resolve_policy_argument(policy_arg))
    click.echo(f"# {loaded.path}: valid; digest {loaded.digest}")
    click.echo(yaml.safe_dump(loaded.effective, sort_keys=False, allow_unicode=True), nl=False)
    return EXIT_PASS


@cli.group()
def comment() -> None:
    """Post report.md as one sticky PR/MR comment, created once and then updated."""


_COMMENT_OUT = click.option("--out", type=click.Path(path_type=Path, file_okay=False), required=True,
                            help="The folder gate check --out wrote (result.json, report.md).")
_COMMENT_MODE = click.option("--mode", type=click.Choice(["always", "on-failure", "never"]), default="always",
                             show_default=True, help="on-failure creates a comment only when the gate did not "
                             "pass, but still updates an existing one on a clean run.")
_COMMENT_MARKER = click.option("--marker", metavar="TEXT",
                               help="Tells this gate's comment from another's: hidden in the comment as <!-- "
                               "promotion-gate:TEXT -->. Default: the workflow and job name (GitLab: the job).")
_COMMENT_EXIT = click.option("--exit-code", "exit_code", type=click.IntRange(0, 255), metavar="N",
                             help="gate check's exit code: 2-6 or 70 posts a 'no verdict' comment (no result.json is "
                             "read); 0/1 must agree with result.json.")


def _echo_outcome(outcome: object) -> int:
    from gate.ci.comment import Outcome

    assert isinstance(outcome, Outcome)
    url = f" {outcome.comment.url}" if outcome.comment is not None and outcome.comment.url else ""
    click.echo(f"comment: {outcome.action}{url} ({outcome.note})")
    return EXIT_PASS


@comment.command("github")
@_COMMENT_OUT
@_COMMENT_MODE
@_COMMENT_MARKER
@_COMMENT_EXIT
@click.option("--pr", type=click.IntRange(min=1), metavar="N",
              help="The pull request (default: from GITHUB_EVENT_PATH). In a workflow_run, it must be the PR "
              "whose head the triggering run was for.")
@click.option("--author", metavar="LOGIN",
              help="The login the token posts as, when GET /user cannot say (a GitHub App token). Default: "
              "GET /user, or github-actions[bot] for the Actions GITHUB_TOKEN.")
def comment_github(out: Path, mode: str, marker: str | None, exit_code: int | None, pr: int | None,
                   author: str | None) -> int:
    """Create or update the PR comment (GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_API_URL)."""
    import os

    from gate.ci.comment import Mode
    from gate.ci.comment import comment_github as run

    return _echo_outcome(run(out, environ=os.environ, mode=Mode(mode), marker=marker, pr=pr, exit_code=exit_code,
                             author=author))


@comment.command("gitlab")
@_COMMENT_OUT
@_COMMENT_MODE
@_COMMENT_MARKER
@_COMMENT_EXIT
@click.option("--mr", type=click.IntRange(min=1), metavar="IID",
              help="The merge request IID (default: CI_MERGE_REQUEST_IID).")
def comment_gitlab(out: Path, mode: str, marker: str | None, exit_code: int | None, mr: int | None) -> int:
    """Create or update the MR note (GATE_GITLAB_TOKEN, CI_API_V4_URL, CI_PROJECT_ID)."""
    import os

    from gate.ci.comment import Mode
    from gate.ci.comment import comment_gitlab as run

    return _echo_outcome(run(out, environ=os.environ, mode=Mode(mode), marker=marker, mr=mr, exit_code=exit_code))


@cli.group()
def ci() -> None:
    """Hand a finished check to the CI runner (job summary, step outputs, annotations)."""


@ci.command("github")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), required=True,
              help="The folder gate check --out wrote (result.json, report.md).")
@click.option("--artifact-name", "artifact", default="promotion-gate", show_default=True, metavar="NAME",
              help="The name the workflow uploads the folder under, for the pointers to it.")
@click.option("--max-annotations", type=click.IntRange(min=0), default=10, show_default=True, metavar="N",
              help="Errors (blocking) and warnings to annotate, each; GitHub shows at most 10 of each per step.")
@click.option("--exit-code", "exit_code", type=click.IntRange(0, 255), metavar="N",
              help="gate check's exit code: 2-6 or 70 reports 'no verdict' (no result.json is read); 0/1 must agree "
              "with result.json.")
def ci_github(out: Path, artifact: str, max_annotations: int, exit_code: int | None) -> int:
    """Append report.md to $GITHUB_STEP_SUMMARY, set step outputs in $GITHUB_OUTPUT (decision, counts, file
    paths) and print ::error/::warning annotations for blocking items and warnings."""
    import os

    from gate.ci.github import publish

    publish(out, environ=os.environ, cwd=os.getcwd(), echo=click.echo,
            note=lambda text: click.echo(f"gate: note: {text}", err=True), artifact=artifact,
            max_annotations=max_annotations, exit_code=exit_code)
    return EXIT_PASS


def main(argv: list[str] | None = None) -> NoReturn:
    """Run the CLI and exit with the documented code; never a traceback for a known failure.

    An unexpected exception is a bug in the gate. Left to Python it would exit 1, the code of a
    verdict ("blocked"), which a warn-only job lets through: so it is caught, told as an internal
    error in one line, and exits 70, which every CI wrapper reads as "no verdict". Every line
    goes through :func:`_log_safe`: messages quote file contents, which must not become CI
    log commands."""
    try:
        code = cli.main(args=argv, prog_name="gate", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("gate: interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except click.exceptions.Exit as exit_:
        sys.exit(exit_.exit_code)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except GateError as error:
        click.echo(f"gate: error: {_log_safe(error.diagnostic())}", err=True)
        sys.exit(_exit_code(error))
    except KeyboardInterrupt:
        click.echo("gate: interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except Exception as error:  # the one place a bug becomes "no verdict", not a crash with exit 1
        import os

        if os.environ.get(DEBUG_VARIABLE):
            import traceback

            traceback.print_exc()
        click.echo(f"gate: internal error (a bug in the gate, no verdict): {type(error).__name__}: "
                   f"{_log_safe(error, 500)}; set {DEBUG_VARIABLE}=1 for the traceback", err=True)
        sys.exit(EXIT_INTERNAL)
    sys.exit(code if isinstance(code, int) else EXIT_PASS)


def _log_safe(value: object, limit: int | None = None) -> str:
    """One log line that cannot forge a CI command (imported here: only messages need it)."""
    from gate.report.escape import terminal_text

    return terminal_text(value, limit)


def _exit_code(error: GateError) -> int:
    for family, code in _EXIT_FOR_ERROR:
        if isinstance(error, family):
            return code
    return EXIT_INVALID_INPUT

