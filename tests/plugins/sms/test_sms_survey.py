"""A satisfaction survey by SMS: the invitation carries the page's link and asks for a digit; a reply with a digit
is the rating (Arabic digits too), STOP opts out, a digit for an answered survey is an ordinary text."""
from sms_helpers import app_config, ben, gateway, post_report  # noqa: F401  (fixtures)

from portal.db import database


def _offer(app, ben_id):
    from portal.models import Beneficiary
    from portal.plugins import hook

    with app.test_request_context(), database.connection_context():
        hook().service_finished(beneficiary=Beneficiary.get_by_id(ben_id), kind="inquiry", channel="sms", case=None,
                                staff=None, source="sms-test:1")


def test_a_digit_reply_rates_the_service(app, ben, gateway, post_report):
    from portal.satisfaction.models import Survey, SurveyAnswer

    _offer(app, ben)
    with app.app_context(), database.connection_context():
        survey = Survey.get()
        assert survey.sent_channel == "sms" and survey.sent_state in ("queued", "sent")
    text = gateway.json()["text"] if "text" in gateway.json() else str(gateway.json())
    assert "/site/rate/" in text
    assert post_report({"from": "0501234567", "text": "٥", "id": "in-1"}).get_json() == {"result": "stored"}
    assert post_report({"from": "0501234567", "text": "شكرًا لكم", "id": "in-2"}).get_json() == {"result": "stored"}
    with app.app_context(), database.connection_context():
        answer = SurveyAnswer.get()
        assert (answer.overall, answer.via, answer.via_channel, answer.comment) == (5, "reply", "sms", "شكرًا لكم")
    # a later digit is an ordinary text (the survey is answered): nothing more is written
    post_report({"from": "0501234567", "text": "3", "id": "in-3"})
    with app.app_context(), database.connection_context():
        assert SurveyAnswer.select().count() == 1


def test_stop_opts_out(app, ben, gateway, post_report):
    from portal.satisfaction.models import SurveyAnswer, SurveyOptOut

    _offer(app, ben)
    post_report({"from": "0501234567", "text": "إيقاف", "id": "in-4"})
    post_report({"from": "0501234567", "text": "4", "id": "in-5"})
    with app.app_context(), database.connection_context():
        assert SurveyOptOut.select().where(SurveyOptOut.beneficiary == ben).exists()
        assert not SurveyAnswer.select().exists()
