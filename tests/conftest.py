"""Shared fixtures: an app on a fresh database per test (temp-file SQLite by default, PostgreSQL when
``PORTAL_TEST_DATABASE_URL`` is set), a client, a CLI runner, users per role and a login helper.

Speed: the schema is migrated once per session into a template (SQLite: a file copied for each test;
PostgreSQL: the tables a test wrote are emptied before the next one). The app is built once per session (per
xdist worker) for each distinct ``app_config`` and reused: before each test its settings are restored, it is
pointed at the test's database, upload and instance folders, and the process-wide state ``create_app`` sets
(the database proxy, the job queue, the rate limiter switch) is bound to it again. A test that changes
``app_config`` gets an app built from those settings (shared only with tests that ask for the same ones).
Data that all the tests of a module start from is built once with ``db_snapshot`` (SQLite: a copy of the file).
"""
from __future__ import annotations

import os
import re
import shutil
from collections import OrderedDict
from contextlib import contextmanager
from pathlib import Path

import pytest

from portal import create_app
from portal.db import database, migrate

PG_URL = os.environ.get("PORTAL_TEST_DATABASE_URL", "")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
ROLES = ("admin", "officer", "researcher", "committee", "delegate", "manager")
PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing():
    """argon2id with small parameters: the same code path, a fraction of the time."""
    from argon2 import PasswordHasher

    import portal.auth

    original = portal.auth.hasher
    portal.auth.hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    portal.auth._DUMMY_HASH = portal.auth.hasher.hash("not-a-password")
    yield
    portal.auth.hasher = original


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "needs_plugins(*names): the test needs these plugins enabled besides its own; skipped, with the reason, "
        "when PORTAL_PLUGINS enables only some plugins (CI's one-plugin runs)",
    )


def pytest_collection_modifyitems(config, items):
    enabled = os.environ.get("PORTAL_PLUGINS", "all").strip()
    if enabled in ("", "all"):
        return
    names = {n.strip() for n in enabled.split(",") if n.strip()}
    for item in items:
        needed = [n for mark in item.iter_markers("needs_plugins") for n in mark.args]
        missing = sorted(set(needed) - names)
        if missing:
            item.add_marker(pytest.mark.skip(
                reason=f"needs the plugin(s) {', '.join(missing)}; PORTAL_PLUGINS={enabled} enables only {', '.join(sorted(names))}"))


def pytest_report_header(config):
    return f"portal database: {'PostgreSQL ' + PG_URL if PG_URL else 'SQLite (temp file per test)'}"


def _reset_postgres(url: str) -> None:
    import psycopg

    with psycopg.connect(url.replace("postgresql://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")


@pytest.fixture(scope="session")
def _template_db(tmp_path_factory):
    """Migrate once per session; each test starts from a copy (SQLite) or a truncated schema (PostgreSQL)."""
    base = tmp_path_factory.mktemp("template")
    if PG_URL:
        _reset_postgres(PG_URL)
        app = create_app({"TESTING": True, "DATABASE_URL": PG_URL, "UPLOAD_DIR": str(base / "up"),
                          "PLUGINS": "all"})
        with app.app_context(), database.connection_context():
            migrate(app.extensions["portal_pm"])
        return PG_URL
    path = base / "template.sqlite3"
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{path}", "UPLOAD_DIR": str(base / "up"),
                      "PLUGINS": "all"})
    with app.app_context(), database.connection_context():
        migrate(app.extensions["portal_pm"])
        database.obj.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


def _truncate_postgres():
    """Empty the tables the previous test wrote and restart the sequences it used: one probe query instead
    of a TRUNCATE of every table (most tests touch a handful)."""
    db = database.obj
    tables = [t for t in db.get_tables() if not t.startswith("schema_migration")]
    if not tables:
        return
    probe = " UNION ALL ".join(f"SELECT '{t}' FROM (SELECT 1 FROM \"{t}\" LIMIT 1) AS x{i}"
                               for i, t in enumerate(tables))
    written = [row[0] for row in db.execute_sql(probe).fetchall()]
    if written:
        db.execute_sql("TRUNCATE " + ", ".join(f'"{t}"' for t in written) + " CASCADE")
    db.execute_sql(
        "SELECT setval((quote_ident(schemaname) || '.' || quote_ident(sequencename))::regclass, 1, false) "
        "FROM pg_sequences "
        "WHERE schemaname = current_schema() AND last_value IS NOT NULL"
    )


@pytest.fixture
def app_config(tmp_path, _template_db):
    """Settings for the test app; tests may change them before asking for ``app``."""
    if PG_URL:
        url = PG_URL
    else:
        db_path = tmp_path / "portal.sqlite3"
        shutil.copy(_template_db, db_path)
        url = f"sqlite:///{db_path}"
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-0123456789",
        "DATABASE_URL": url,
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "HUEY_IMMEDIATE": True,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        # Each test has a database of its own: kept connections would outlive it (tests/test_db_pool.py
        # tests the pools).
        "DATABASE_POOL": False,
        # Notices go at once whatever the hour and however many: the quiet hours and the daily cap have their
        # own tests (tests/workflow/test_notices.py).
        "QUIET_HOURS": "",
        "NOTICES_DAILY_CAP": 0,
        # CI runs each plugin's tests again with only that plugin enabled (PORTAL_PLUGINS=<name>).
        "PLUGINS": os.environ.get("PORTAL_PLUGINS", "all"),
    }


# Apps built in this process, by settings (the most recent few kept). Each holds the settings it had when
# built, to restore them before every test that reuses it.
_APPS: OrderedDict = OrderedDict()
_APPS_KEPT = 6
_PER_TEST = ("DATABASE_URL", "UPLOAD_DIR")


def _frozen(value):
    if isinstance(value, dict):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple, set, frozenset)):
        return (type(value).__name__, tuple(_frozen(v) for v in value))
    hash(value)  # anything else by equality (by identity for plain objects, e.g. EXTRA_PLUGINS)
    return value


def _app_key(config: dict):
    """What makes two tests' apps the same, or None when this app must not be shared: its settings other
    than the per-test paths, the ``PORTAL_*`` environment (read by ``create_app``), and no rate limiter (its
    counts live in a process-wide object that each ``create_app`` replaces)."""
    if config.get("RATELIMIT_ENABLED", True):
        return None
    env = tuple(sorted((k, v) for k, v in os.environ.items()
                       if k.startswith("PORTAL_") and k != "PORTAL_INSTANCE_PATH"))
    try:
        return _frozen({k: v for k, v in config.items() if k not in _PER_TEST}), env
    except TypeError:
        return None


def _shape(application) -> tuple:
    """What a test may add to an app (routes, blueprints, request handlers): an app whose shape changed during
    a test is not reused."""
    handlers = (application.before_request_funcs, application.after_request_funcs,
                application.teardown_request_funcs, application.template_context_processors,
                application.url_value_preprocessors, application.url_default_functions)
    return (len(application.url_map._rules), len(application.view_functions), len(application.blueprints),
            tuple(sum(len(v) for v in h.values()) for h in handlers),
            sum(len(codes) for scope in application.error_handler_spec.values() for codes in scope.values()))


def _reuse(application, snapshot: dict, config: dict, instance: Path) -> None:
    """Point a built app at this test's database and folders, with its settings as built."""
    from portal import jobs
    from portal.db import make_database
    from portal.limiter import limiter

    application.config.clear()
    application.config.update(snapshot)
    for key in _PER_TEST:
        application.config[key] = config[key]
    application.instance_path = str(instance)
    os.makedirs(instance, exist_ok=True)
    database.initialize(make_database(config["DATABASE_URL"]))
    jobs.configure(application.config, application.instance_path)
    jobs._state["app"] = application
    limiter.enabled = False
    # A test may still add a route or a handler before its first request, as on a new app (the app is then
    # dropped after the test, see ``_shape``).
    application._got_first_request = False


@pytest.fixture
def app(app_config, tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path / "instance"))
    key = _app_key(app_config)
    if key is not None and key in _APPS:
        application, snapshot, shape = _APPS[key]
        _APPS.move_to_end(key)
        _reuse(application, snapshot, app_config, tmp_path / "instance")
    else:
        application = create_app(app_config)
        if key is not None:
            _APPS[key] = (application, dict(application.config), _shape(application))
            while len(_APPS) > _APPS_KEPT:
                _APPS.popitem(last=False)
    with application.app_context():
        database.connect(reuse_if_open=True)
        if PG_URL:
            _truncate_postgres()
        database.close()
    yield application
    if not database.is_closed():
        database.close()
    if key in _APPS and _shape(application) != _APPS[key][2]:
        del _APPS[key]


# Data a module's tests all start from, built by the first of them: (module, key) -> (database copy, result).
_SNAPSHOTS: dict = {}


@pytest.fixture
def db_snapshot(request, app_config, tmp_path_factory):
    """``db_snapshot(key, build)`` for a fixture whose data every test of a module starts from: the module's first
    test runs ``build()`` and keeps a copy of the database file and ``build``'s result (plain values: ids,
    strings); the next ones get a copy of that file and the same result instead of building again. The fixtures
    before it must have written the same rows for each test (users, request types ...); files written to the
    upload folder are not kept. On PostgreSQL ``build()`` runs every time."""

    def use(key: str, build):
        if PG_URL:
            return build()
        path = Path(app_config["DATABASE_URL"].removeprefix("sqlite:///"))
        name = (request.module.__name__, key)
        if name in _SNAPSHOTS:
            copy, result = _SNAPSHOTS[name]
            was_open = not database.is_closed()
            if was_open:
                database.close()
            for extra in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
                extra.unlink(missing_ok=True)
            shutil.copy(copy, path)
            if was_open:  # as the fixtures before left it (e.g. ``wf`` keeps one open for the test)
                database.connect()
            return result
        result = build()
        was_open = not database.is_closed()
        database.connect(reuse_if_open=True)
        database.obj.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        if not was_open:
            database.close()
        copy = tmp_path_factory.mktemp("snapshot") / "snapshot.sqlite3"
        shutil.copy(path, copy)
        _SNAPSHOTS[name] = (copy, result)
        return result

    return use


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def db(app):
    """An open connection inside an app context, for tests that use models directly."""
    with app.app_context():
        database.connect(reuse_if_open=True)
        yield database
        if not database.is_closed():
            database.close()


@pytest.fixture
def users(app):
    """One user per role (username = role, password = PASSWORD); the delegate belongs to branch TAIF."""
    from portal.auth import hash_password
    from portal.models import Branch, User

    with app.app_context(), database.connection_context():
        taif = Branch.create(code="TAIF", name_ar="مكتب الطائف", name_en="Taif office", city="الطائف")
        Branch.create(code="MKK", name_ar="مكتب مكة المكرمة", name_en="Makkah office", city="مكة المكرمة")
        hashed = hash_password(PASSWORD)
        made = {}
        for role in ROLES:
            made[role] = User.create(username=role, full_name=f"مستخدم {role}", roles=role, password_hash=hashed,
                                     branch=taif if role == "delegate" else None)
        return {k: v.id for k, v in made.items()}


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, username="officer", password=PASSWORD):
        return self._client.post("/login", data={"username": username, "password": password})

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def auth(client, users):
    return AuthActions(client)


VALID_IDS = ["1000000008", "1234567897", "2000000007", "1111111119", "2222222228", "1010101014"]


def luhn_id(prefix: str) -> str:
    """A valid 10-digit ID that starts with ``prefix`` (9 digits)."""
    from portal.demo import luhn_complete

    return luhn_complete(prefix)


@pytest.fixture
def beneficiary_data():
    return {
        "first_name": "أحمد", "father_name": "محمد", "grandfather_name": "علي", "family_name": "الغامدي",
        "national_id": "1000000008", "gender": "m", "mobile": "0501234567", "birth_date": "1985-03-14",
        "city": "مكة المكرمة", "district": "العزيزية", "category": "low_income",
    }


@contextmanager
def registered(app, plugin, name: str):
    """``plugin`` (an object with hook implementations) registered with the app's plugin manager as ``name``
    for the ``with`` block, and unregistered after it whatever happens."""
    pm = app.extensions["portal_pm"]
    pm.register(plugin, name=name)
    try:
        yield plugin
    finally:
        pm.unregister(plugin)


def db_context(app, request_context: bool = True):
    """A context for model code with a connection, inside a test request context (or, when
    ``request_context`` is false, only an app context)."""
    from contextlib import ExitStack

    stack = ExitStack()
    stack.enter_context(app.test_request_context() if request_context else app.app_context())
    stack.enter_context(database.connection_context())
    return stack


@pytest.fixture
def in_db(app):
    """Model code inside a request context with a connection: ``with in_db(): ...`` (a plugin folder's
    conftest may define its own)."""
    return lambda: db_context(app)


@pytest.fixture
def make_beneficiary(app):
    """Create a beneficiary through the service; keyword arguments override the defaults."""
    from portal import beneficiaries_service as service

    counter = {"n": 0}

    def make(**overrides):
        counter["n"] += 1
        data = {
            "first_name": "سارة", "father_name": "عبدالله", "grandfather_name": "سعد", "family_name": "الحربي",
            "national_id": luhn_id(f"1{counter['n']:08d}"), "gender": "f",
            "mobile": f"0550{counter['n']:06d}",
        }
        data.update(overrides)
        with app.app_context(), database.connection_context():
            res = service.validate(data)
            assert res.ok, res.errors
            return service.create(res.values).id

    return make


def rows(app, model, *where) -> list:
    """Every row of ``model`` matching the ``where`` conditions, read in a connection of its own."""
    with app.app_context(), database.connection_context():
        query = model.select()
        for cond in where:
            query = query.where(cond)
        return list(query)


def text_of(response) -> str:
    """Visible text of an HTML response, tags removed, whitespace collapsed."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r"</?bdi\b[^>]*>", "", html)  # an isolate is inline: it adds no space around its text
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent
