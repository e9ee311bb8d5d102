"""The print queue: letters the notices' routing issued as the last way to reach a beneficiary, waiting to be
printed and posted (frozen copy of the model at the time)."""
from peewee import *


def up(migrator, db):
    class User(Model):
        class Meta:
            database = db
            table_name = 'user'

    class Letter(Model):
        class Meta:
            database = db
            table_name = 'letter'

    class PrintJob(Model):
        letter = ForeignKeyField(Letter, backref='+', on_delete='CASCADE', unique=True)
        purpose = CharField(max_length=40, default='')
        queued_at = DateTimeField(index=True)
        printed_at = DateTimeField(null=True, index=True)
        printed_by = ForeignKeyField(User, null=True, backref='+', on_delete='SET NULL')

        class Meta:
            database = db
            table_name = 'print_job'

    db.create_tables([PrintJob])


def down(migrator, db):
    db.execute_sql('DROP TABLE print_job')
