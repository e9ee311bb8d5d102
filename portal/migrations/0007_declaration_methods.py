"""Declaration methods without channel names: ``website_tick`` becomes ``self_tick`` (ticked by the
applicant in a self-service form) and ``phone_read`` becomes ``read_out`` (read out to the applicant),
in the declarations and in the data of their timeline entries (frozen copies of the models)."""
from peewee import CharField, Model, TextField, fn

RENAMES = (("website_tick", "self_tick"), ("phone_read", "read_out"))


def _rename(db, pairs):
    class Declaration(Model):
        method = CharField(max_length=20)

        class Meta:
            database = db
            table_name = 'declaration'

    class TimelineEntry(Model):
        channel = CharField(max_length=30)
        data = TextField(null=True)

        class Meta:
            database = db
            table_name = 'timeline_entry'

    for old, new in pairs:
        Declaration.update(method=new).where(Declaration.method == old).execute()
        # entry data is JSON text written with sort_keys and the default separators
        TimelineEntry.update(data=fn.REPLACE(TimelineEntry.data, f'"method": "{old}"', f'"method": "{new}"')).where(
            (TimelineEntry.channel == 'system') & TimelineEntry.data.contains('"kind": "declaration"')).execute()


def up(migrator, db):
    _rename(db, RENAMES)


def down(migrator, db):
    _rename(db, [(new, old) for old, new in RENAMES])
