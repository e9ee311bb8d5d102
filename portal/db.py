"""Database: one peewee proxy, opened per request, closed on teardown, plus the migrations runner."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from flask import current_app
from peewee import DatabaseProxy, Model, SqliteDatabase
from playhouse.db_url import connect as db_url_connect
from playhouse.migrations import Runner

database = DatabaseProxy()

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def utcnow() -> dt.datetime:
    """Naive UTC timestamp: what every DateTimeField stores."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False

    def save(self, *args, **kwargs):
        """Every ``create``/``save`` checks text lengths first: a value longer than its column is a
        ``FieldTooLong`` (answered 422), not a PostgreSQL error or a silently longer SQLite value."""
        from .hygiene import check_lengths

        check_lengths(self)
        return super().save(*args, **kwargs)


def make_database(url: str):
    """Build a peewee Database from a URL; SQLite gets WAL, foreign keys and a busy timeout."""
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[1] if ":///" in url else ":memory:"
        return SqliteDatabase(
            path,
            pragmas={
                "journal_mode": "wal",
                "foreign_keys": 1,
                "busy_timeout": 5000,
                "synchronous": "normal",
                "cache_size": -16000,
            },
            timeout=10,
        )
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        # psycopg 3: maintained, binary wheels, used by peewee 4 without extra packages.
        url = "psycopg3://" + url.split("://", 1)[1]
    return db_url_connect(url)


def is_postgres() -> bool:
    return not isinstance(database.obj, SqliteDatabase)


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
    database.initialize(make_database(app.config["DATABASE_URL"]))

    @app.before_request
    def _connect():
        database.connect(reuse_if_open=True)

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
