"""Fixtures of the phone channel tests: a CTI token, a reader of the outreach queue, model access."""
import sys
from pathlib import Path

import pytest
from conftest import db_context

from portal.db import database

# This folder is a package (``__init__.py``), so this conftest has a module name of its own and
# ``from conftest import ...`` in the tests still means tests/conftest.py. The tests import their helper
# module by its plain name: keep this folder on ``sys.path`` for them.
if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))

TOKEN = "cti-secret-token-0123456789"


class OutreachQueue:
    """The core's outreach queue as these tests read it: every task asked for, oldest first."""

    def __init__(self, app):
        self.app = app

    @property
    def tasks(self):
        from portal.workflow.models import OutreachTask

        with self.app.app_context():
            opened = database.is_closed()
            if opened:
                database.connect()
            try:
                return [{"beneficiary": t.beneficiary_id, "kind": t.kind, "reason": t.reason, "due": t.due,
                         "source": t.source} for t in OutreachTask.select().order_by(OutreachTask.id)]
            finally:
                if opened:
                    database.close()


@pytest.fixture
def outreach(app):
    return OutreachQueue(app)


@pytest.fixture
def app_config(app_config):
    app_config["PHONE_CTI_TOKEN"] = TOKEN
    return app_config


@pytest.fixture
def in_db(app):
    """Run model code inside an app context (no request) with a connection: ``with in_db(): ...``."""
    return lambda: db_context(app, request_context=False)


@pytest.fixture
def officer_phone(app, users):
    from portal.models import User

    with app.app_context(), database.connection_context():
        User.update(phone="201", full_name="نورة القحطاني").where(User.id == users["officer"]).execute()
    return "201"
