"""Counts kept beside the data so that dashboards and reports read a few hundred rows, not every timeline
entry: contacts with people per Saudi day, channel and direction (``ContactDay``).

``portal.timeline`` adds and takes away in the same transaction as each entry it writes or changes; every
night the last weeks are counted again from the entries (a file erased with its entries, a row written
outside the services), so a count that drifted is right again by the next morning.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter

from huey import crontab
from peewee import EXCLUDED, fn

from .dates import SAUDI_OFFSET, saudi_date, saudi_today
from .db import database, is_postgres
from .jobs import periodic_task
from .models import ContactDay

RECOUNT_DAYS = 35  # the nightly recount covers the dashboards' 30 days and a little more
NOT_PEOPLE = "system"  # the workflow's own events: not contacts


def is_contact(channel: str, direction: str) -> bool:
    return channel != NOT_PEOPLE and direction in ("in", "out")


def tally(rows) -> Counter:
    """(Saudi day, channel, direction) -> how many, of ``rows`` of (occurred_at, channel, direction)."""
    found = Counter()
    for occurred_at, channel, direction in rows:
        if occurred_at is not None and is_contact(channel, direction):
            found[(saudi_date(occurred_at), channel, direction)] += 1
    return found


def add_contacts(counts: Counter, sign: int = 1) -> None:
    """Add (or with ``sign=-1`` take away) ``counts`` from ``tally``; call inside the entries' transaction.
    One multi-row upsert per 500 days × channels."""
    rows = [{"day": day, "channel": channel, "direction": direction, "count": sign * n}
            for (day, channel, direction), n in counts.items() if n]
    for start in range(0, len(rows), 500):
        (ContactDay.insert_many(rows[start:start + 500])
         .on_conflict(conflict_target=[ContactDay.day, ContactDay.channel, ContactDay.direction],
                      update={ContactDay.count: ContactDay.count + EXCLUDED.count})
         .execute())


def contacts_by_channel(first: dt.date, last: dt.date) -> dict[str, int]:
    """Contacts with people per channel between two Saudi days (both included)."""
    return dict(ContactDay.select(ContactDay.channel, fn.SUM(ContactDay.count))
                .where(ContactDay.day.between(first, last))
                .group_by(ContactDay.channel).having(fn.SUM(ContactDay.count) > 0).tuples())


def saudi_day_sql(column: str) -> str:
    """SQL for the Saudi day of a UTC timestamp column."""
    if is_postgres():
        return f"CAST({column} + INTERVAL '3 hours' AS date)"
    return f"date({column}, '+3 hours')"


def recount(days: int = RECOUNT_DAYS, today: dt.date | None = None) -> None:
    """Count the last ``days`` Saudi days again from the entries, in one aggregate statement."""
    today = today or saudi_today()
    first = today - dt.timedelta(days=days - 1)
    since = dt.datetime.combine(first, dt.time()) - SAUDI_OFFSET
    day = saudi_day_sql("occurred_at")
    with database.atomic():
        ContactDay.delete().where(ContactDay.day >= first).execute()
        database.execute_sql(
            f"INSERT INTO contact_day (day, channel, direction, count) "  # nosec B608 # fixed SQL, values bound
            f"SELECT {day}, channel, direction, COUNT(*) FROM timeline_entry "
            f"WHERE occurred_at >= %s AND channel != %s AND direction IN ('in', 'out') "
            f"GROUP BY {day}, channel, direction".replace("%s", database.param),
            (since, NOT_PEOPLE))


@periodic_task(crontab(minute="40", hour="3"))
def nightly_recount():
    """Every night at 03:40 UTC (06:40 in Riyadh), after the daily workflow."""
    return recount()
