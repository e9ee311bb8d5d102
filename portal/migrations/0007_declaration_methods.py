"""Declaration methods without channel names: ``website_tick`` becomes ``self_tick`` (ticked by the
applicant in a self-service form) and ``phone_read`` becomes ``read_out`` (read out to the applicant),
in the declarations and in the data of their timeline entries."""

RENAMES = (("website_tick", "self_tick"), ("phone_read", "read_out"))


def _rename(db, pairs):
    for old, new in pairs:
        db.execute_sql('UPDATE "declaration" SET "method" = %s WHERE "method" = %s'.replace("%s", db.param),
                       (new, old))
        # entry data is JSON text written with sort_keys and the default separators
        db.execute_sql(('UPDATE "timeline_entry" SET "data" = REPLACE("data", %s, %s) '
                        'WHERE "channel" = %s AND "data" LIKE %s').replace("%s", db.param),
                       (f'"method": "{old}"', f'"method": "{new}"', "system", '%"kind": "declaration"%'))


def up(migrator, db):
    _rename(db, RENAMES)


def down(migrator, db):
    _rename(db, [(new, old) for old, new in RENAMES])
