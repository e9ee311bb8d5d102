"""An outgoing message sent for a notice knows the notice's timeline entry (written by the core's ``notify``
with ``delivery.id`` naming the message), so that its delivery state is shown there as it changes."""
from peewee import *


def up(migrator, db):
    class TimelineEntry(Model):
        class Meta:
            database = db
            table_name = 'timeline_entry'

    migrator.migrate(
        migrator.add_column('social_message', 'notice_entry_id', ForeignKeyField(
            TimelineEntry, null=True, on_delete='SET NULL', field=TimelineEntry._meta.primary_key)),
    )
