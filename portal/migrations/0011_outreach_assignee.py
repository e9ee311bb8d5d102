"""Outreach tasks get an assignee (the officer who took the task: "assign to me", the "mine" filter), and an
index for the queue's order (status, due, id) so a page of open tasks reads only the index."""
from peewee import *


def up(migrator, db):
    class User(Model):
        class Meta:
            database = db
            table_name = 'user'

    migrator.migrate(
        migrator.add_column('outreach_task', 'assigned_to_id', ForeignKeyField(User, null=True, on_delete='SET NULL',
                                                                            field=User._meta.primary_key)),
        migrator.add_index('outreach_task', ('status', 'due'), False),
    )
