"""Indexes for the officer pages at a charity's size, and the per-day contact counts (``contact_day``).

- ``timeline_entry (follow_up_done, follow_up_due)``: the open follow-ups due, without reading every done one.
- ``timeline_entry (channel, occurred_at)``: a channel's newest entries (today's walk-ins).
- ``beneficiary (updated_at, id)``: the list's default order read off the index.
- ``case (status, status_changed_at)``: the oldest requests in a state; ``case (created_at)`` and
  ``case (decided_at)``: the managers' charts by month.
- ``contact_day``: contacts with people per Saudi day, channel and direction, filled here from the entries
  already written (then kept up to date by ``portal.timeline``).
"""
import peewee
from peewee import *


def up(migrator, db):
    class ContactDay(Model):
        day = DateField()
        channel = CharField(max_length=30)
        direction = CharField(max_length=10)
        count = IntegerField(default=0)

        class Meta:
            database = db
            table_name = 'contact_day'
            indexes = ((('day', 'channel', 'direction'), True),)

    migrator.migrate(
        migrator.add_index('timeline_entry', ('follow_up_done', 'follow_up_due'), False),
        migrator.add_index('timeline_entry', ('channel', 'occurred_at'), False),
        migrator.add_index('beneficiary', ('updated_at', 'id'), False),
        migrator.add_index('case', ('status', 'status_changed_at'), False),
        migrator.add_index('case', ('created_at',), False),
        migrator.add_index('case', ('decided_at',), False),
    )
    db.create_tables([ContactDay])
    if isinstance(db, peewee.SqliteDatabase):
        day = "date(occurred_at, '+3 hours')"
    else:
        day = "CAST(occurred_at + INTERVAL '3 hours' AS date)"
    db.execute_sql(
        f"INSERT INTO contact_day (day, channel, direction, count) "  # nosec B608 # fixed SQL, no input
        f"SELECT {day}, channel, direction, COUNT(*) FROM timeline_entry "
        f"WHERE channel != 'system' AND direction IN ('in', 'out') GROUP BY {day}, channel, direction")


def down(migrator, db):
    db.execute_sql('DROP TABLE IF EXISTS contact_day')
    migrator.migrate(
        migrator.drop_index('timeline_entry', 'timeline_entry_follow_up_done_follow_up_due'),
        migrator.drop_index('timeline_entry', 'timeline_entry_channel_occurred_at'),
        migrator.drop_index('beneficiary', 'beneficiary_updated_at_id'),
        migrator.drop_index('case', 'case_status_status_changed_at'),
        migrator.drop_index('case', 'case_created_at'),
        migrator.drop_index('case', 'case_decided_at'),
    )
