"""Background jobs with huey: SQLite storage in ``instance/`` by default, Redis when
``PORTAL_REDIS_URL`` is set. ``portal worker`` runs the consumer; tests run tasks immediately
(``HUEY_IMMEDIATE``).

Modules declare tasks with ``@task()`` / ``@periodic_task(...)`` from this module; each task runs
inside the configured application's context with a database connection.
"""
from __future__ import annotations

import functools
from pathlib import Path

from huey import Huey
from huey.storage import RedisStorage, SqliteStorage

huey = Huey("portal", immediate=True)
_state: dict = {"app": None}


def configure(config, instance_path: str) -> None:
    if config.get("REDIS_URL"):
        huey.storage_class = RedisStorage
        huey.storage_kwargs = {"url": config["REDIS_URL"]}
    else:
        huey.storage_class = SqliteStorage
        huey.storage_kwargs = {"filename": str(Path(instance_path) / "jobs.sqlite3")}
    huey._immediate = bool(config.get("HUEY_IMMEDIATE"))
    huey.storage = huey.create_storage()


def init_app(app) -> None:
    configure(app.config, app.instance_path)
    _state["app"] = app
    app.extensions["huey"] = huey


def _in_app(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from flask import has_app_context

        from .db import database

        if has_app_context():
            return func(*args, **kwargs)
        app = _state["app"]
        if app is None:
            raise RuntimeError("no application configured for jobs: call create_app() first")
        with app.app_context():
            with database.connection_context():
                return func(*args, **kwargs)

    return wrapper


def task(**options):
    """Declare a background task that runs inside the app context."""

    def decorator(func):
        return huey.task(**options)(_in_app(func))

    return decorator


def periodic_task(validate_datetime, **options):
    def decorator(func):
        return huey.periodic_task(validate_datetime, **options)(_in_app(func))

    return decorator


def run_consumer(workers: int = 2) -> None:
    consumer = huey.create_consumer(workers=workers, worker_type="thread", periodic=True)
    consumer.run()
