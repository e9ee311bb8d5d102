"""Fixtures of the delegates channel tests: files in the delegate's branch (TAIF) and in another (MKK)."""
import sys
from pathlib import Path

import pytest

from portal.db import database

if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def in_db(app):
    """Model code inside a request context with a connection: ``with in_db(): ...``."""
    def context():
        from contextlib import ExitStack

        stack = ExitStack()
        stack.enter_context(app.test_request_context())
        stack.enter_context(database.connection_context())
        return stack

    return context


@pytest.fixture
def taif_ben(users, make_beneficiary):
    return make_beneficiary(branch="TAIF", district="الشفا", city="الطائف")


@pytest.fixture
def mkk_ben(users, make_beneficiary):
    return make_beneficiary(branch="MKK", national_id="1234567897", mobile="0551239876")

