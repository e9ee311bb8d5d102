"""Fixtures of the social plugin's tests: a local Graph API, a local SMTP server, the plugin's settings,
a webhook poster and the recorded payloads."""
import copy
import json
import sys
from pathlib import Path

import pytest

# This folder is a package (``__init__.py``), so this conftest has a module name of its own and
# ``from conftest import ...`` in the tests still means tests/conftest.py. The tests import their helper
# module by its plain name: keep this folder on ``sys.path`` for them.
if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))

from social_helpers import (  # noqa: E402  (after the path above)
    ACCESS_TOKEN, PHONE_NUMBER_ID, SECRET, VERIFY_TOKEN, FakeGraph, SmtpSink, load,
)

from fake_http import running  # noqa: E402

from plugins.social.processing import sign  # noqa: E402


@pytest.fixture
def graph():
    yield from running(FakeGraph())


@pytest.fixture
def smtp():
    yield from running(SmtpSink())


@pytest.fixture
def app_config(app_config, graph):
    app_config.update({
        "SOCIAL_APP_SECRET": SECRET, "SOCIAL_VERIFY_TOKEN": VERIFY_TOKEN, "SOCIAL_GRAPH_URL": graph.url + "/v21.0",
        "SOCIAL_ACCESS_TOKEN": ACCESS_TOKEN, "SOCIAL_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
        "SOCIAL_HTTP_TIMEOUT": 0.3, "SOCIAL_HTTP_ATTEMPTS": 3, "SOCIAL_HTTP_BACKOFF": 0.01,
        # The self-service menu (plugins/help_requests) would answer these tests' messages: it has its own tests.
        "HELP_REQUESTS_CHANNELS": [],
    })
    return app_config


@pytest.fixture
def post_webhook(client):
    def post(payload, secret=SECRET, raw: bytes | None = None, signature: str | None = None):
        body = raw if raw is not None else json.dumps(payload, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        sig = signature if signature is not None else sign(body, secret)
        if sig:
            headers["X-Hub-Signature-256"] = sig
        return client.post("/webhooks/meta", data=body, headers=headers)

    return post


@pytest.fixture
def payload():
    def make(name: str, **changes) -> dict:
        return copy.deepcopy(load(name))

    return make
