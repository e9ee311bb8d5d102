"""Each text knows its timeline entry (the notice or the officer's message that records it), so that its
delivery state is written on that entry as the gateway reports it."""
from peewee import *


def up(migrator, db):
    class TimelineEntry(Model):
        class Meta:
            database = db
            table_name = 'timeline_entry'

    migrator.migrate(
        migrator.add_column('sms_message', 'entry_id', ForeignKeyField(TimelineEntry, null=True, on_delete='SET NULL',
                                                                      field=TimelineEntry._meta.primary_key)),
    )
