"""Website messages get an assignee: an officer takes one ("assign to me") and finds their own with "mine"."""
from peewee import ForeignKeyField, Model


def up(migrator, db):
    class User(Model):
        class Meta:
            database = db
            table_name = 'user'

    # add_column indexes a foreign key by itself
    migrator.migrate(
        migrator.add_column('inquiry', 'assigned_to_id',
                            ForeignKeyField(User, null=True, field=User._meta.primary_key, on_delete='SET NULL')),
    )


def down(migrator, db):
    migrator.migrate(migrator.drop_column('inquiry', 'assigned_to_id'))
