"""Database: one peewee proxy, opened per request, closed on teardown, plus the migrations runner."""
from __future__ import annotations

import datetime as dt
import inspect
import itertools
import json
import random
import time
from pathlib import Path

import click
import peewee
from flask import current_app, request
from peewee import DatabaseProxy, Model
from playhouse.db_url import connect as db_url_connect
from playhouse.migrations import Runner
from playhouse.pool import _PooledSqliteDatabase

database = DatabaseProxy()

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def utcnow() -> dt.datetime:
    """Naive UTC timestamp: what every DateTimeField stores."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class FieldTooLong(ValueError):
    """A text longer than its column, stopped before the database sees it (``BaseModel.save``)."""

    def __init__(self, model: str, field: str, limit: int):
        super().__init__(f"{model}.{field} is longer than {limit} characters")
        self.model, self.field, self.limit = model, field, limit


def check_lengths(instance) -> None:
    """Raise ``FieldTooLong`` when a ``CharField`` value of ``instance`` exceeds its ``max_length``."""
    for field in instance._meta.sorted_fields:
        if isinstance(field, peewee.CharField) and field.max_length:
            value = instance.__data__.get(field.name)
            if isinstance(value, str) and len(value) > field.max_length:
                raise FieldTooLong(type(instance).__name__, field.name, field.max_length)


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False

    def save(self, *args, **kwargs):
        """Every ``create``/``save`` checks text lengths first: a value longer than its column is a
        ``FieldTooLong`` (answered 422), not a PostgreSQL error or a silently longer SQLite value."""
        check_lengths(self)
        return super().save(*args, **kwargs)


# SQLite under concurrent writers (``portal run`` serves each request in a thread of its own, gunicorn adds
# processes). How long a writer waits for the write lock before SQLite gives up, and how many times more a
# refused BEGIN or a single statement outside a transaction is tried (nothing of it has happened then, so
# trying again is safe).
SQLITE_BUSY_TIMEOUT_S = 15
SQLITE_LOCK_RETRIES = 3


def is_locked_error(exc: BaseException) -> bool:
    message = str(exc).lower()
    return "database is locked" in message or "database table is locked" in message


def _retry_locked(call):
    for attempt in range(SQLITE_LOCK_RETRIES + 1):
        try:
            return call()
        except peewee.OperationalError as exc:
            if attempt == SQLITE_LOCK_RETRIES or not is_locked_error(exc):
                raise
            time.sleep(random.uniform(0.05, 0.25) * (attempt + 1))


class SqliteDatabase(peewee.SqliteDatabase):
    """SQLite for many writers at once.

    - Every top-level transaction (``database.atomic()``) starts with ``BEGIN IMMEDIATE``: it takes the write
      lock up front, waiting up to the busy timeout for it. A plain ``BEGIN`` starts as a reader; when it
      later writes after another connection has committed, SQLite cannot let it wait (its snapshot is stale)
      and answers "database is locked" at once: that is how concurrent applicants were lost.
    - A ``BEGIN`` still refused after the busy timeout, and a statement outside any transaction refused the
      same way, are tried again a few times after a short random pause. A statement inside a transaction is
      never retried on its own: the transaction fails as a whole and writes nothing.
    """

    def __init__(self, database, **kwargs):
        kwargs.setdefault("lock_type", "IMMEDIATE")
        kwargs.setdefault("timeout", SQLITE_BUSY_TIMEOUT_S)
        super().__init__(database, **kwargs)

    def begin(self, lock_type=None):
        return _retry_locked(lambda: super(SqliteDatabase, self).begin(lock_type))

    def execute_sql(self, sql, params=None):
        if self.in_transaction():
            return super().execute_sql(sql, params)
        return _retry_locked(lambda: super(SqliteDatabase, self).execute_sql(sql, params))


def sqlite_path(url: str) -> str:
    return url.split(":///", 1)[1] if ":///" in url else ":memory:"


class PooledSqliteDatabase(_PooledSqliteDatabase, SqliteDatabase):
    """``SqliteDatabase`` whose connections are kept open between requests: a request takes one back (its
    pragmas already set, its page cache warm) instead of opening the file again, about 3 ms less per request.
    A connection left in a transaction is rolled back before it is reused."""


def make_database(url: str, pool: bool = False, pool_size: int = 20):
    """Build a peewee Database from a URL; SQLite gets WAL, foreign keys, a busy timeout and immediate
    write transactions (see ``SqliteDatabase``).

    With ``pool``, connections are kept and reused (``database.close()`` gives the connection back): per
    thread on SQLite (pragmas run once per connection), a pool of at most ``pool_size`` on PostgreSQL (a new
    connection costs about 8 ms there; a request waits up to 10 s for a free one, and one idle for 5 minutes
    is replaced)."""
    if url.startswith("sqlite"):
        cls, extra = (PooledSqliteDatabase, {"max_connections": pool_size, "timeout": 10,
                                             "check_same_thread": False}) if pool else (SqliteDatabase, {})
        return cls(
            sqlite_path(url), **extra,
            pragmas={
                # First, so that the pragmas after it already wait for a lock instead of failing.
                "busy_timeout": SQLITE_BUSY_TIMEOUT_S * 1000,
                "journal_mode": "wal",
                "foreign_keys": 1,
                "synchronous": "normal",
                "cache_size": -16000,
            },
        )
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        # psycopg 3: maintained, binary wheels, used by peewee 4 without extra packages.
        rest = url.split("://", 1)[1]
        if pool:
            return db_url_connect("psycopg3+pool://" + rest, max_connections=pool_size, stale_timeout=300,
                                  timeout=10)
        url = "psycopg3://" + rest
    return db_url_connect(url)


def is_postgres() -> bool:
    return not isinstance(database.obj, peewee.SqliteDatabase)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


_PG_TYPES = {"AUTO": "integer", "INT": "integer", "BOOL": "boolean", "DATETIME": "timestamp", "DATE": "date",
             "VARCHAR": "text", "TEXT": "text"}


class JSONField(peewee.TextField):
    """JSON stored as text on every backend (UTF-8, no ASCII escaping)."""

    def db_value(self, value):
        return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)

    def python_value(self, value):
        return None if value is None else json.loads(value)


SQLITE_MAX_PARAMS = 32_766


def bulk_insert(model, rows: list[dict], returning: tuple = (), ignore_conflicts: bool = False) -> list[tuple]:
    """Insert ``rows`` (plain column values: ids for foreign keys; the model's defaults fill the columns the
    rows leave out) in one statement (on SQLite, one per 32,766 values). With ``ignore_conflicts``, a row
    that would break a unique index is skipped (``ON CONFLICT DO NOTHING``) and not returned.

    peewee's ``insert_many`` spends about 40 µs building SQL for each value, which dominated the
    import. Here SQLite gets one multi-row VALUES statement with bound parameters, and PostgreSQL
    one ``INSERT ... SELECT FROM unnest(array, array, ...)`` with an array a column: a short
    statement the driver does not have to parse for thousands of placeholders. Used by the timeline's
    bulk service (``portal.timeline.create_entries``) and by plugins for their own tables."""
    db = database.obj
    defaults = {f.name: (f.default() if callable(f.default) else f.default) for f in model._meta.sorted_fields
                if f.name not in rows[0] and f.default is not None and not f.primary_key}
    if defaults:  # the model's defaults for the columns the rows leave out, as Model.insert would
        rows = [{**defaults, **row} for row in rows]
    fields = [model._meta.fields[name] for name in rows[0]]
    postgres = is_postgres()
    per_statement = SQLITE_MAX_PARAMS // len(fields)
    if not postgres and len(rows) > per_statement:  # SQLite binds at most 32,766 values per statement
        out = []
        for start in range(0, len(rows), per_statement):
            out.extend(bulk_insert(model, rows[start:start + per_statement], returning, ignore_conflicts))
        return out
    columns = ", ".join(_quote(f.column_name) for f in fields)
    tail = (" RETURNING " + ", ".join(_quote(name) for name in returning)) if returning else ""
    if ignore_conflicts:  # rows that would break a unique index are left out (and not returned)
        tail = " ON CONFLICT DO NOTHING" + tail
    # Column by column: one list a column, converted in one comprehension (a function call per value cost
    # more than the insert itself on an import of a hundred thousand calls).
    arrays = []
    for f in fields:
        values = [row[f.name] for row in rows]
        if isinstance(f, JSONField):
            values = [f.db_value(v) for v in values]
        elif not postgres and isinstance(f, peewee.DateTimeField):
            values = [None if v is None else str(v) for v in values]  # the text form peewee stores
        arrays.append(values)
    if postgres:
        casts = ", ".join(f"%b::{_PG_TYPES[f.field_type]}[]" for f in fields)  # binary: no escaping
        sql = f'INSERT INTO "{model._meta.table_name}" ({columns}) SELECT * FROM unnest({casts}){tail}'  # nosec B608 # table and column names from the model's metadata; values bound as parameters
        cursor = db.execute_sql(sql, arrays)
    else:
        params = list(itertools.chain.from_iterable(zip(*arrays)))  # row by row, as the VALUES list reads
        one = "(" + ", ".join(["?"] * len(fields)) + ")"
        sql = f'INSERT INTO "{model._meta.table_name}" ({columns}) VALUES {", ".join([one] * len(rows))}{tail}'  # nosec B608 # table and column names from the model's metadata; values bound as parameters
        cursor = db.execute_sql(sql, params)
    return cursor.fetchall() if returning else []


def in_values(field, values) -> peewee.Node:
    """``field IN (values)`` for a long list of plain values (a batch's keys), bound as parameters.

    peewee's ``field.in_(values)`` builds a node and converts each value on its way into the SQL, about
    14 µs a value: 14 ms for the thousand keys of one import batch. Here the values are bound as they are
    (strings and numbers: no conversion to apply) behind one placeholder each."""
    values = list(values)
    if not values:
        return peewee.SQL("1 = 0")
    marks = ", ".join([database.obj.param] * len(values))
    return peewee.NodeList((field, peewee.SQL(f"IN ({marks})", values)))


class Prepared:
    """A select whose SQL peewee builds once per kind of database, for the few fixed queries of a hot page.

    peewee builds a query's SQL again on every execution: for the small selects of a public page that took
    longer than the database took to answer them (0.3–0.7 ms each against well under 0.1 ms). ``build``
    returns the query from its arguments; it is called once per kind of database with markers in the
    arguments' places, and each call binds the real values there. The arguments are text, compared with
    text columns (a marker is text: it passes a text field's conversion unchanged, where a number field
    would refuse it); every other value stays as peewee bound it."""

    def __init__(self, build):
        self.build = build
        self.arity = len(inspect.signature(build).parameters)
        self._compiled: dict = {}

    def _compiled_for_this_database(self):
        db = database.obj
        key = (type(db), db.param)
        found = self._compiled.get(key)
        if found is None:
            markers = [f"\x00prepared-{i}\x00" for i in range(self.arity)]
            query = self.build(*markers)
            sql, params = query.sql()
            slots = [markers.index(p) if isinstance(p, str) and p in markers else None for p in params]
            if set(range(self.arity)) - set(slots):
                raise ValueError("every argument of a prepared query must be bound as a parameter")
            found = self._compiled[key] = (query.model, sql, params, slots)
        return found

    def rows(self, *args: str) -> list:
        if len(args) != self.arity or not all(isinstance(a, str) for a in args):
            raise TypeError(f"a prepared query takes {self.arity} text argument(s)")
        model, sql, params, slots = self._compiled_for_this_database()
        return list(model.raw(sql, *[p if i is None else args[i] for p, i in zip(params, slots)]))

    def first(self, *args: str):
        found = self.rows(*args)
        return found[0] if found else None


def migration_sources(pm) -> list[tuple[str, Path]]:
    """Core migrations first, then each enabled plugin's, each tracked in its own history table."""
    sources = [("core", MIGRATIONS_DIR)]
    for group in pm.hook.register_migrations():
        for namespace, directory in group or []:
            sources.append((namespace, Path(directory)))
    return sources


def migrate(pm) -> list[str]:
    """Apply every pending migration; returns the names applied. Safe to run again."""
    applied = []
    for namespace, directory in migration_sources(pm):
        table = "schema_migration" if namespace == "core" else f"schema_migration_{namespace}"
        runner = Runner(database.obj, str(directory), table_name=table)
        applied.extend(f"{namespace}:{name}" for name in runner.up())
    return applied


def init_app(app):
    database.initialize(make_database(app.config["DATABASE_URL"], pool=bool(app.config["DATABASE_POOL"]),
                                      pool_size=int(app.config["DATABASE_POOL_SIZE"])))

    @app.before_request
    def _connect():
        database.connect(reuse_if_open=True)

    @app.errorhandler(peewee.OperationalError)
    def _busy(exc):
        """A write lock still refused after the busy timeout and the retries: that transaction rolled back;
        answer 503 with Retry-After (the client may send again) instead of a server error."""
        if not is_locked_error(exc):
            raise exc
        from werkzeug.exceptions import ServiceUnavailable

        current_app.logger.warning("database busy: %s %s answered 503 (%s)", request.method, request.path, exc)
        response = current_app.make_response(current_app.handle_http_exception(ServiceUnavailable()))
        response.headers["Retry-After"] = "5"
        return response

    @app.teardown_request
    def _close(exc):
        if not database.is_closed():
            database.close()

    @app.cli.command("migrate")
    def migrate_command():
        """Apply pending database migrations."""
        names = migrate(current_app.extensions["portal_pm"])
        for name in names:
            click.echo(f"applied {name}")
        click.echo(f"{len(names)} migration(s) applied; schema is current.")


def table_of(db, table_name: str) -> type[peewee.Model]:
    """For a migration: a bare model of an existing table (its ``id`` alone), the target of a foreign key to a
    table the migration does not own (migrations never import the live models, which change later)."""
    meta = type("Meta", (), {"database": db, "table_name": table_name})
    return type(f"Frozen_{table_name}", (peewee.Model,), {"Meta": meta})
