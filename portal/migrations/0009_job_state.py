"""The background work's state: the worker's heartbeat and the last daily run (frozen copy of ``JobState``)."""
from peewee import *


def up(migrator, db):
    class JobState(Model):
        name = CharField(max_length=40, primary_key=True)
        at = DateTimeField()
        day = DateField(null=True)
        data = TextField(null=True)

        class Meta:
            database = db
            table_name = 'job_state'

    db.create_tables([JobState])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('job_state'))
