"""Fixtures of the phone channel tests: a CTI token, a recording outreach queue, model access."""
import sys
from pathlib import Path

import pytest

from portal import hookimpl
from portal.db import database

# This folder is a package (``__init__.py``), so this conftest has a module name of its own and
# ``from conftest import ...`` in the tests still means tests/conftest.py. The tests import their helper
# module by its plain name: keep this folder on ``sys.path`` for them.
if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))


TOKEN = "cti-secret-token-0123456789"


class OutreachRecorder:
    """A throwaway plugin standing in for the outreach queue: records every task asked for."""

    def __init__(self):
        self.tasks = []

    @hookimpl
    def outreach_task(self, beneficiary, kind, reason, due, source):
        self.tasks.append({"beneficiary": beneficiary.id if beneficiary else None, "kind": kind, "reason": reason,
                           "due": due, "source": source})
        return len(self.tasks)


_RECORDER = OutreachRecorder()


@pytest.fixture
def outreach():
    """The recording outreach queue, empty at the start of each test. One object for the session, so that
    the tests of this folder (same settings, same plugins) share one app instead of building one each."""
    _RECORDER.tasks = []
    return _RECORDER


@pytest.fixture
def app_config(app_config, outreach):
    app_config["PHONE_CTI_TOKEN"] = TOKEN
    app_config["EXTRA_PLUGINS"] = (outreach,)
    return app_config


@pytest.fixture
def in_db(app):
    """Run model code inside an app context with a connection: ``with in_db(): ...``."""
    def context():
        from contextlib import ExitStack

        stack = ExitStack()
        stack.enter_context(app.app_context())
        stack.enter_context(database.connection_context())
        return stack

    return context


@pytest.fixture
def officer_phone(app, users):
    from portal.models import User

    with app.app_context(), database.connection_context():
        User.update(phone="201", full_name="نورة القحطاني").where(User.id == users["officer"]).execute()
    return "201"
