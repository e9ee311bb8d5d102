"""Fixtures of the phone channel tests (imported by each test module: a conftest.py here would shadow
the top-level one): a CTI token, a recording outreach queue, model access."""
import pytest

from portal import hookimpl
from portal.db import database

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


@pytest.fixture
def outreach():
    return OutreachRecorder()


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
