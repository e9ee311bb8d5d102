"""The dashboard's last scans, kept beside the data (``portal.stats``):

- ``case_month``: requests per Saudi month by status ("opened") and committee decisions per month with the
  deadline kept or missed ("decided"), filled here from every request (then kept by the workflow);
- ``timeline_entry.undelivered``: the mark of an outgoing message recorded as not sent or reported undelivered,
  set here from the stored data (then by the timeline services), and the (undelivered, occurred_at) index the
  officers' "messages not delivered" list reads.
"""
import peewee
from peewee import *

# As ``portal.stats.UNDELIVERED_SQL`` when this migration was written.
UNDELIVERED_SQL = "(direction = 'out' AND ((LOWER(channel) = 'system' AND data LIKE {p}) OR data LIKE {p}))"
UNDELIVERED_PATTERNS = ('%"sent": false%', '%"delivery_state": "failed"%')


def up(migrator, db):
    class CaseMonth(Model):
        month = CharField(max_length=7)
        kind = CharField(max_length=10)
        key = CharField(max_length=30)
        count = IntegerField(default=0)

        class Meta:
            database = db
            table_name = 'case_month'
            indexes = ((('month', 'kind', 'key'), True),)

    db.create_tables([CaseMonth])
    postgres = not isinstance(db, peewee.SqliteDatabase)

    def month(column):
        if postgres:
            return f"to_char({column} + INTERVAL '3 hours', 'YYYY-MM')"
        return f"strftime('%Y-%m', {column}, '+3 hours')"

    kept = "CASE WHEN decided_at <= committee_due_at THEN 'kept' ELSE 'missed' END"
    db.execute_sql(
        f'INSERT INTO case_month (month, kind, key, count) '  # nosec B608 # fixed SQL, no input
        f'SELECT {month("created_at")}, \'opened\', status, COUNT(*) FROM "case" '
        f'WHERE created_at IS NOT NULL GROUP BY {month("created_at")}, status')
    db.execute_sql(
        f'INSERT INTO case_month (month, kind, key, count) '  # nosec B608 # fixed SQL, no input
        f'SELECT {month("decided_at")}, \'decided\', {kept}, COUNT(*) FROM "case" '
        f'WHERE decided_at IS NOT NULL AND committee_due_at IS NOT NULL GROUP BY {month("decided_at")}, {kept}')

    false = 'FALSE' if postgres else '0'
    db.execute_sql(f'ALTER TABLE timeline_entry ADD COLUMN undelivered BOOLEAN NOT NULL DEFAULT {false}')
    test = UNDELIVERED_SQL.format(p=db.param)
    db.execute_sql(f'UPDATE timeline_entry SET undelivered = {test} '  # nosec B608 # fixed SQL, values bound
                   f"WHERE direction = 'out' AND {test}", (*UNDELIVERED_PATTERNS, *UNDELIVERED_PATTERNS))
    migrator.migrate(migrator.add_index('timeline_entry', ('undelivered', 'occurred_at'), False))


def down(migrator, db):
    db.execute_sql('DROP TABLE IF EXISTS case_month')
    migrator.migrate(
        migrator.drop_index('timeline_entry', 'timeline_entry_undelivered_occurred_at'),
        migrator.drop_column('timeline_entry', 'undelivered'),
    )
