"""The monthly reports: one row per Gregorian month (unique, so producing a month twice keeps one row), the PDF
kept by the upload service under its SHA-256; and indexes on the request's step timestamps, which the reports
filter by period (the days spent in each step)."""
from peewee import *


def up(migrator, db):
    class User(Model):
        class Meta:
            database = db
            table_name = 'user'

    class MonthlyReport(Model):
        month = CharField(max_length=7, unique=True)
        sha256 = CharField(max_length=64)
        file_name = CharField(max_length=100)
        size = IntegerField(default=0)
        created_at = DateTimeField()
        created_by = ForeignKeyField(User, null=True, on_delete='SET NULL')

        class Meta:
            database = db
            table_name = 'monthly_report'

    db.create_tables([MonthlyReport])
    migrator.migrate(*[migrator.add_index('case', (column,), False)
                       for column in ('submitted_at', 'referred_at', 'awaiting_committee_at', 'registered_at')])


def down(migrator, db):
    db.execute_sql('DROP TABLE IF EXISTS monthly_report')
    migrator.migrate(*[migrator.drop_index('case', f'case_{column}')
                       for column in ('submitted_at', 'referred_at', 'awaiting_committee_at', 'registered_at')])
