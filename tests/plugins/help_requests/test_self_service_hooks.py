"""The self-service menu asks other plugins: an appointments plugin books the visit (``self_service_booking``),
a satisfaction plugin gives a rating link (``self_service_link``)."""
import json

import pytest

from portal import hookimpl
from portal.db import database
from portal.workflow.models import OutreachTask

pytestmark = pytest.mark.needs_plugins("sms")


class Appointments:
    @hookimpl
    def self_service_booking(self, beneficiary, channel):
        return {"text": f"حُجز موعدك يوم الأحد القادم الساعة 10 صباحًا ({channel})"}


class Ratings:
    def __init__(self):
        self.issued = 0

    @hookimpl
    def self_service_link(self, beneficiary, purpose, issue):
        if purpose != "rating":
            return None
        if not issue:
            return {"url": "", "expires_at": None}
        self.issued += 1
        return {"url": f"https://sila.example.org/rate/{self.issued}", "expires_at": None}


RATINGS = Ratings()
PLUGINS = (Appointments(), RATINGS)


@pytest.fixture
def app_config(app_config):
    return dict(app_config, EXTRA_PLUGINS=PLUGINS)


def texts(gateway):
    return [json.loads(r["body"])["text"] for r in gateway.requests]


def test_booking_and_rating_come_from_the_plugins(app, make_beneficiary, gateway, sms_in):
    make_beneficiary(mobile="0501234567")
    sms_in("+966501234567", "menu")
    assert "6 - Rate our last service" in texts(gateway)[-1]
    sms_in("+966501234567", "2")
    assert "حُجز موعدك يوم الأحد القادم" in texts(gateway)[-1] and "(sms)" in texts(gateway)[-1]
    sms_in("+966501234567", "rate")
    assert "https://sila.example.org/rate/1" in texts(gateway)[-1]
    with app.app_context(), database.connection_context():
        assert OutreachTask.select().count() == 0  # the visit was booked: no call-back needed
