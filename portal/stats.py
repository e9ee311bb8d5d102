"""Counts kept beside the data so that dashboards and reports read a few hundred rows, not every timeline
entry or request: contacts with people per Saudi day, channel and direction (``ContactDay``), requests per
Saudi month by state and committee decisions per month, deadline kept or missed (``CaseMonth``), and the
``undelivered`` mark of a timeline entry (an outgoing message recorded as not sent or reported undelivered).

``portal.timeline`` and the workflow (``intake.open_case``, ``machine.transition``) add and take away in the
same transaction as each entry or request they write or change; every night the last weeks (months for the
requests) are counted again from the rows (a file erased with its entries, a row written outside the
services), so a count that drifted is right again by the next morning.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter

from huey import crontab
from peewee import EXCLUDED, fn

from .dates import SAUDI_OFFSET, from_saudi, saudi_date, saudi_day_bounds, saudi_today
from .db import database, is_postgres
from .jobs import periodic_task
from .models import CaseMonth, ContactDay

RECOUNT_DAYS = 35  # the nightly recount covers the dashboards' 30 days and a little more
RECOUNT_MONTHS = 7  # and the managers' six months of requests, and one more
NOT_PEOPLE = "system"  # the workflow's own events: not contacts
_SAUDI_HOURS = int(SAUDI_OFFSET / dt.timedelta(hours=1))  # the offset of portal.dates, in the SQL below


def is_contact(channel: str, direction: str) -> bool:
    return channel != NOT_PEOPLE and direction in ("in", "out")


def tally(rows) -> Counter:
    """(Saudi day, channel, direction) -> how many, of ``rows`` of (occurred_at, channel, direction)."""
    found = Counter()
    for occurred_at, channel, direction in rows:
        if occurred_at is not None and is_contact(channel, direction):
            found[(saudi_date(occurred_at), channel, direction)] += 1
    return found


def _add(model, names: tuple[str, str, str], counts: Counter, sign: int) -> None:
    """Add ``sign`` × ``counts`` (keyed by the three columns ``names``) to ``model``'s counts: one multi-row
    upsert per 500 keys."""
    rows = [{**dict(zip(names, key)), "count": sign * n} for key, n in counts.items() if n]
    target = [getattr(model, name) for name in names]
    for start in range(0, len(rows), 500):
        (model.insert_many(rows[start:start + 500])
         .on_conflict(conflict_target=target, update={model.count: model.count + EXCLUDED.count})
         .execute())


def add_contacts(counts: Counter, sign: int = 1) -> None:
    """Add (or with ``sign=-1`` take away) ``counts`` from ``tally``; call inside the entries' transaction."""
    _add(ContactDay, ("day", "channel", "direction"), counts, sign)


# --- undelivered messages ---------------------------------------------------------------------------------

def is_undelivered(channel: str, direction: str, data) -> bool:
    """An outgoing message recorded as not sent by the workflow (``portal.workflow.notify``: a ``system``
    entry with data ``{"sent": false}``) or that a channel's transport reported ``failed``
    (``data.delivery_state``): the dashboard's "messages not delivered"."""
    if direction != "out" or not isinstance(data, dict):
        return False
    return ((str(channel).lower() == NOT_PEOPLE and data.get("sent") is False)
            or data.get("delivery_state") == "failed")


# The same test in SQL on the stored JSON text (``JSONField``: sorted keys, ", " and ": " separators), for the
# migration and the nightly repair of the mark; the patterns are bound (``{p}``: the driver's placeholder).
UNDELIVERED_SQL = "(direction = 'out' AND ((LOWER(channel) = 'system' AND data LIKE {p}) OR data LIKE {p}))"
UNDELIVERED_PATTERNS = ('%"sent": false%', '%"delivery_state": "failed"%')


def remark_undelivered(since: dt.datetime) -> int:
    """Set the ``undelivered`` mark again from the data of the entries since ``since``; how many changed."""
    test = UNDELIVERED_SQL.format(p=database.param)
    cursor = database.execute_sql(
        f"UPDATE timeline_entry SET undelivered = {test} "  # nosec B608 # fixed SQL, values bound
        f"WHERE occurred_at >= {database.param} AND undelivered != {test}",
        (*UNDELIVERED_PATTERNS, since, *UNDELIVERED_PATTERNS))
    return cursor.rowcount


# --- requests per month -----------------------------------------------------------------------------------

def month_key(value: dt.datetime | dt.date) -> str:
    """The Saudi month (YYYY-MM) of a stored UTC timestamp."""
    return saudi_date(value).strftime("%Y-%m")


def case_tally(rows) -> Counter:
    """(month, kind, key) -> how many, of ``rows`` of (created_at, status, decided_at, committee_due_at):
    the month a request was opened with its status, and the month of a decision that had a deadline."""
    found = Counter()
    for created_at, status, decided_at, due in rows:
        if created_at is not None:
            found[(month_key(created_at), "opened", status)] += 1
        if decided_at is not None and due is not None:
            found[(month_key(decided_at), "decided", "kept" if decided_at <= due else "missed")] += 1
    return found


def case_row(case) -> tuple:
    """The counted values of a ``Case`` (for ``case_tally``)."""
    return (case.created_at, case.status, case.decided_at, case.committee_due_at)


def add_cases(counts: Counter, sign: int = 1) -> None:
    """Add (or take away) ``counts`` from ``case_tally``; call inside the request's transaction."""
    _add(CaseMonth, ("month", "kind", "key"), counts, sign)


def change_case(before: tuple, after: tuple) -> None:
    """A request's counted values went from ``before`` to ``after`` (``case_row``): move its counts."""
    if before != after:
        add_cases(case_tally([before]), sign=-1)
        add_cases(case_tally([after]))


def case_months(first: str) -> dict[tuple[str, str], dict[str, int]]:
    """(month, kind) -> {key: count} for the months from ``first`` (YYYY-MM) on."""
    found: dict[tuple[str, str], dict[str, int]] = {}
    for month, kind, key, n in (CaseMonth.select(CaseMonth.month, CaseMonth.kind, CaseMonth.key, CaseMonth.count)
                                .where((CaseMonth.month >= first) & (CaseMonth.count > 0)).tuples()):
        found.setdefault((month, kind), {})[key] = n
    return found


def _month_sql(column: str) -> str:
    """SQL for the Saudi month (YYYY-MM) of a UTC timestamp column."""
    if is_postgres():
        return f"to_char({column} + INTERVAL '{_SAUDI_HOURS} hours', 'YYYY-MM')"
    return f"strftime('%Y-%m', {column}, '+{_SAUDI_HOURS} hours')"


def recount_cases(months: int = RECOUNT_MONTHS, today: dt.date | None = None) -> None:
    """Count the requests of the last ``months`` Saudi months again, two aggregate statements."""
    today = today or saudi_today()
    year, month = today.year, today.month - (months - 1)
    while month < 1:
        year, month = year - 1, month + 12
    first = f"{year:04d}-{month:02d}"
    since = from_saudi(dt.datetime(year, month, 1))
    opened, decided = _month_sql('"created_at"'), _month_sql('"decided_at"')
    with database.atomic():
        CaseMonth.delete().where(CaseMonth.month >= first).execute()
        database.execute_sql(
            f'INSERT INTO case_month (month, kind, key, count) '  # nosec B608 # fixed SQL, values bound
            f'SELECT {opened}, \'opened\', status, COUNT(*) FROM "case" WHERE created_at >= %s '
            f'GROUP BY {opened}, status'.replace("%s", database.param), (since,))
        database.execute_sql(
            f'INSERT INTO case_month (month, kind, key, count) '  # nosec B608 # fixed SQL, values bound
            f'SELECT {decided}, \'decided\', CASE WHEN decided_at <= committee_due_at THEN \'kept\' '
            f'ELSE \'missed\' END, COUNT(*) FROM "case" '
            f'WHERE decided_at >= %s AND committee_due_at IS NOT NULL '
            f'GROUP BY {decided}, CASE WHEN decided_at <= committee_due_at THEN \'kept\' ELSE \'missed\' END'
            .replace("%s", database.param), (since,))


def contacts_by_channel(first: dt.date, last: dt.date) -> dict[str, int]:
    """Contacts with people per channel between two Saudi days (both included)."""
    return dict(ContactDay.select(ContactDay.channel, fn.SUM(ContactDay.count))
                .where(ContactDay.day.between(first, last))
                .group_by(ContactDay.channel).having(fn.SUM(ContactDay.count) > 0).tuples())


def saudi_day_sql(column: str) -> str:
    """SQL for the Saudi day of a UTC timestamp column."""
    if is_postgres():
        return f"CAST({column} + INTERVAL '{_SAUDI_HOURS} hours' AS date)"
    return f"date({column}, '+{_SAUDI_HOURS} hours')"


def recount(days: int = RECOUNT_DAYS, today: dt.date | None = None) -> None:
    """Count the last ``days`` Saudi days again from the entries, in one aggregate statement."""
    today = today or saudi_today()
    first = today - dt.timedelta(days=days - 1)
    since = saudi_day_bounds(first)[0]
    day = saudi_day_sql("occurred_at")
    with database.atomic():
        ContactDay.delete().where(ContactDay.day >= first).execute()
        database.execute_sql(
            f"INSERT INTO contact_day (day, channel, direction, count) "  # nosec B608 # fixed SQL, values bound
            f"SELECT {day}, channel, direction, COUNT(*) FROM timeline_entry "
            f"WHERE occurred_at >= %s AND channel != %s AND direction IN ('in', 'out') "
            f"GROUP BY {day}, channel, direction".replace("%s", database.param),
            (since, NOT_PEOPLE))


def recount_all(today: dt.date | None = None) -> None:
    """Every count of this module again: the contacts of the last weeks, the requests of the last months and
    the undelivered marks of the last weeks' entries."""
    today = today or saudi_today()
    recount(today=today)
    recount_cases(today=today)
    with database.atomic():
        remark_undelivered(saudi_day_bounds(today - dt.timedelta(days=RECOUNT_DAYS - 1))[0])


@periodic_task(crontab(minute="40", hour="3"))
def nightly_recount():
    """Every night at 03:40 UTC (06:40 in Riyadh), after the daily workflow."""
    return recount_all()
