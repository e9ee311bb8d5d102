"""The association's contact details edited by admins (frozen copy of plugins/website/models.py's
SiteContact at the time)."""
from peewee import *


def up(migrator, db):
    class User(Model):
        class Meta:
            database = db
            table_name = 'user'

    class SiteContact(Model):
        phone = CharField(max_length=30, default='')
        email = CharField(max_length=120, default='')
        address = CharField(max_length=300, default='')
        hours = CharField(max_length=300, default='')
        map_url = CharField(max_length=500, default='')
        updated_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        updated_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'site_contact'

    db.create_tables([SiteContact], safe=True)


def down(migrator, db):
    db.execute_sql('DROP TABLE IF EXISTS "site_contact"')
