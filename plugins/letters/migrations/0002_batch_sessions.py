"""Batches for a committee session: the session and whether each request gets its own decision letter."""
from peewee import BooleanField, IntegerField


def up(migrator, db):
    migrator.migrate(migrator.add_column('letter_batch', 'session_id', IntegerField(null=True)))
    migrator.migrate(migrator.add_column('letter_batch', 'by_decision', BooleanField(default=False)))


def down(migrator, db):
    migrator.migrate(migrator.drop_column('letter_batch', 'by_decision'))
    migrator.migrate(migrator.drop_column('letter_batch', 'session_id'))
