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


def test_a_score_and_a_comment_by_text_stay_with_the_survey_not_on_the_timeline(app, client, auth, ben, gateway,
                                                                               post_report):
    """Not for punishment: no staff screen shows which beneficiary gave which score. The reply's words are kept
    with the survey only; the timeline keeps that a text came, and the texts received keep no words."""
    from portal.models import TimelineEntry
    from portal.satisfaction.models import SurveyAnswer

    from plugins.sms.models import SmsInbound

    _offer(app, ben)
    post_report({"from": "0501234567", "text": "2", "id": "in-p1"})
    post_report({"from": "0501234567", "text": "الموظف تأخر كثيرًا في الرد", "id": "in-p2"})
    post_report({"from": "0501234567", "text": "متى موعد الاستلام؟", "id": "in-p3"})  # an ordinary text
    with app.app_context(), database.connection_context():
        answer = SurveyAnswer.get()
        assert (answer.overall, answer.comment) == (2, "الموظف تأخر كثيرًا في الرد")
        private = {i.gateway_id: i for i in SmsInbound.select()}
        assert private["in-p1"].text == "" and private["in-p2"].text == ""
        assert private["in-p3"].text == "متى موعد الاستلام؟"
        entries = list(TimelineEntry.select().where(
            (TimelineEntry.beneficiary == ben) & (TimelineEntry.channel == "sms") & (TimelineEntry.direction == "in"))
            .order_by(TimelineEntry.id))
        complaint = [e for e in entries if (e.data or {}).get("kind") == "complaint"]
        entries = [e for e in entries if (e.data or {}).get("kind") != "complaint"]
        assert len(entries) == 3  # the contacts happened
        # a score of 2 opened a complaint: the register has the score, the timeline only says a call is due
        assert len(complaint) == 1 and "2" not in complaint[0].body and "سجل الشكاوى" in complaint[0].body
        for entry in entries[:2]:
            assert entry.body == "" and (entry.data or {}).get("private") is True
            assert "تأخر" not in entry.summary and "2" not in entry.summary
        assert entries[2].body == "متى موعد الاستلام؟"
    for user in ("officer", "manager", "admin"):
        auth.login(user)
        for url in (f"/beneficiaries/{ben}", f"/beneficiaries/{ben}/timeline", "/sms/messages?box=in", "/sms/messages",
                    "/"):
            page = client.get(url)
            if page.status_code == 200:
                assert "تأخر كثيرًا" not in page.get_data(as_text=True), (user, url)
        auth.logout()
