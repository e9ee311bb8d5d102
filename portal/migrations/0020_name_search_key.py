"""The name search's index (``portal.name_index``): ``beneficiary.search_key`` (the words a name is found by,
between spaces) and ``beneficiary_word`` (one row per word and file, its primary key the SQLite prefix search),
filled here for the files already registered, 2,000 at a time; on PostgreSQL the ``pg_trgm`` extension and a
GIN trigram index on ``search_key``. Where the extension cannot be installed (a database user without the
right), the migration logs it and the search uses ``beneficiary_word`` on PostgreSQL too."""
import logging

import peewee
from portal.text import search_key

BATCH = 2000
log = logging.getLogger(__name__)


def up(migrator, db):
    postgres = not isinstance(db, peewee.SqliteDatabase)
    db.execute_sql("ALTER TABLE beneficiary ADD COLUMN search_key TEXT NOT NULL DEFAULT ''")
    collate = ' COLLATE "C"' if postgres else ''
    db.execute_sql(
        f'CREATE TABLE beneficiary_word (word VARCHAR(60){collate} NOT NULL, '
        f'beneficiary_id INTEGER NOT NULL REFERENCES beneficiary (id) ON DELETE CASCADE, '
        f'PRIMARY KEY (word, beneficiary_id)){"" if postgres else " WITHOUT ROWID"}')
    db.execute_sql('CREATE INDEX beneficiary_word_beneficiary_id_word ON beneficiary_word (beneficiary_id, word)')
    fill(db)
    if postgres:
        try:
            with db.atomic():  # a savepoint: a refused extension leaves the migration's transaction usable
                db.execute_sql('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        except peewee.DatabaseError as exc:
            log.warning('pg_trgm is not available (%s): the name search uses the beneficiary_word index', exc)
            return
        # The operator class named with the extension's schema: the extension may live outside the search path
        # (installed once in "public" while the portal's tables are in a schema of their own).
        schema = db.execute_sql("SELECT extnamespace::regnamespace::text FROM pg_extension "
                                "WHERE extname = 'pg_trgm'").fetchone()[0]
        db.execute_sql(f'CREATE INDEX beneficiary_search_key_trgm ON beneficiary '
                       f'USING gin (search_key {schema}.gin_trgm_ops)')


def fill(db):
    """The key and the words of every file, ``BATCH`` files at a time (by id)."""
    param = db.param
    last = 0
    while True:
        rows = db.execute_sql(
            f'SELECT id, name_search FROM beneficiary WHERE id > {param} ORDER BY id LIMIT {BATCH}',  # nosec B608 # the driver's placeholder and a constant; values bound
            (last,)).fetchall()
        if not rows:
            break
        last = rows[-1][0]
        keys = [(search_key(name), ben_id) for ben_id, name in rows]
        words = [(word, ben_id) for key, ben_id in keys for word in dict.fromkeys(key.split())]
        cursor = db.cursor()
        cursor.executemany(f'UPDATE beneficiary SET search_key = {param} WHERE id = {param}', keys)  # nosec B608 # placeholders only
        if words:
            sql = f'INSERT INTO beneficiary_word (word, beneficiary_id) VALUES ({param}, {param})'  # nosec B608 # placeholders only
            cursor.executemany(sql, words)


def down(migrator, db):
    db.execute_sql('DROP INDEX IF EXISTS beneficiary_search_key_trgm')
    db.execute_sql('DROP TABLE IF EXISTS beneficiary_word')
    migrator.migrate(migrator.drop_column('beneficiary', 'search_key'))
