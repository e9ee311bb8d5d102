"""The issue form's one-time token on each letter: a form sent twice issues one letter with one number."""
from peewee import CharField


def up(migrator, db):
    migrator.migrate(migrator.add_column('letter', 'issue_token', CharField(max_length=40, null=True)),
                     migrator.add_index('letter', ('issue_token',), True))


def down(migrator, db):
    migrator.migrate(migrator.drop_index('letter', 'letter_issue_token'),
                     migrator.drop_column('letter', 'issue_token'))
