"""``advisory_db``: refuse to judge on advisory data older than the policy allows.

Age is measured from the newest ``modified`` time among the records, not from the import:
re-importing an old snapshot must not make it look fresh."""

from __future__ import annotations

from gate.clock import parse_instant
from gate.errors import AdvisoryDataError
from gate.policy.rules.base import Context, Outcome


class AdvisoryDbRule:
    section = "advisory_db"

    def check(self, context: Context) -> Outcome:
        rules = context.policy.advisory_db
        if rules is None or rules.max_age_days is None or context.policy.vulnerabilities is None:
            return Outcome()
        database = context.database
        if database is None or database.newest_modified is None:
            raise AdvisoryDataError("the advisory database has no dated records; cannot tell its age",
                                    where=database.source if database else None)
        newest = parse_instant(database.newest_modified)
        age_days = (context.now - newest).total_seconds() / 86400
        if age_days > rules.max_age_days:
            raise AdvisoryDataError(
                f"advisory database is {int(age_days)} days old (newest record modified "
                f"{newest.date().isoformat()}); policy {context.policy.path} allows "
                f"advisory_db.max_age_days={rules.max_age_days}: run `gate db update`")
        return Outcome(notes=(f"Advisory data is {int(age_days)} day(s) old (limit {rules.max_age_days}).",))
