"""Fixtures of the website plugin's tests: no minimum fill time, the default request types, an outbox."""
import sys
from pathlib import Path

import pytest
from conftest import registered

from portal.db import database

# This folder is a package (``__init__.py``), so this conftest has a module name of its own and
# ``from conftest import ...`` in the tests still means tests/conftest.py. The tests import their helper
# module by its plain name: keep this folder on ``sys.path`` for them.
if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))



@pytest.fixture
def app_config(app_config):
    app_config["WEBSITE_MIN_FILL_SECONDS"] = 0
    return app_config


@pytest.fixture
def types(app):
    """The default request types and the current declaration text."""
    from portal.workflow.defaults import ensure_default_request_types
    from portal.workflow.intake import current_declaration_text

    with app.app_context(), database.connection_context():
        ensure_default_request_types()
        current_declaration_text()


class Outbox:
    """A throwaway sender plugin: records every ``send_message`` and delivers it."""

    def __init__(self, deliver=True):
        self.sent = []
        self.deliver = deliver

    def send_message(self, beneficiary, text, purpose, channel, context):
        self.sent.append({"beneficiary": beneficiary.id, "text": text, "purpose": purpose, "context": context})
        return {"channel": "phone", "id": f"m{len(self.sent)}"} if self.deliver else None

    def by_purpose(self, purpose):
        return [m for m in self.sent if m["purpose"] == purpose]


@pytest.fixture
def outbox(app):
    from portal import hookimpl

    box = Outbox()

    class Plugin:
        @hookimpl
        def send_message(self, beneficiary, text, purpose, channel, context):
            return box.send_message(beneficiary, text, purpose, channel, context)

    with registered(app, Plugin(), "test-outbox"):
        yield box
