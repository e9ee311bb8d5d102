"""Satisfaction surveys on WhatsApp: a conversation the officer marks resolved offers a survey; inside the
24-hour window it goes as an interactive list 5…1; the chosen row is the score, the next message the comment."""
import copy

import pytest
from social_helpers import app_config as _social_config, graph, payload, post_webhook, smtp  # noqa: F401  (fixtures)
from social_helpers import fresh

from portal.db import database

from plugins.social.models import Message, Sender


@pytest.fixture
def app_config(_social_config):
    return dict(_social_config, QUIET_HOURS="")  # the quiet hours have their own tests


def _list_reply(data, row_id, title):
    data = copy.deepcopy(data)
    msg = data["entry"][0]["changes"][0]["value"]["messages"][0]
    msg["id"] = msg["id"] + "-" + row_id[-8:]
    msg["interactive"] = {"type": "list_reply", "list_reply": {"id": row_id, "title": title}}
    return fresh(data)


def _text(data, body, suffix):
    data = copy.deepcopy(data)
    msg = data["entry"][0]["changes"][0]["value"]["messages"][0]
    msg["id"] = msg["id"] + suffix
    msg["text"]["body"] = body
    return fresh(data)


def test_resolved_conversation_survey_as_a_list_and_answered_by_a_reply(app, client, auth, graph, make_beneficiary,
                                                                        post_webhook, payload):
    from portal.satisfaction.models import Survey, SurveyAnswer

    ben = make_beneficiary(mobile="0551112233", preferred_channel="social", consent_contact=True)
    post_webhook(fresh(payload("wa_text.json")))  # they wrote: the window is open
    with app.app_context(), database.connection_context():
        sender = Sender.get()
        assert sender.beneficiary_id == ben
    auth.login("officer")
    assert client.post(f"/social/senders/{sender.id}/resolved").status_code == 302
    assert client.post(f"/social/senders/{sender.id}/resolved").status_code == 302  # twice: one survey
    with app.app_context(), database.connection_context():
        survey = Survey.get()
        assert (survey.kind, survey.channel, survey.sent_channel, survey.sent_state) == (
            "conversation", "social", "social", "sent")
        assert Survey.select().count() == 1
    body = graph.sent()[-1]["json"]
    assert body["type"] == "interactive" and body["interactive"]["type"] == "list"
    rows = body["interactive"]["action"]["sections"][0]["rows"]
    assert [r["title"] for r in rows] == ["5", "4", "3", "2", "1"]
    assert "/site/rate/" in body["interactive"]["body"]["text"]
    four = next(r for r in rows if r["title"] == "4")
    assert post_webhook(_list_reply(payload("wa_interactive.json"), four["id"], "4")).status_code == 200
    assert post_webhook(_text(payload("wa_text.json"), "شكرًا على سرعة الرد", "-c")).status_code == 200
    with app.app_context(), database.connection_context():
        answer = SurveyAnswer.get()
        assert (answer.overall, answer.via, answer.via_channel, answer.comment) == (4, "reply", "social",
                                                                                    "شكرًا على سرعة الرد")
        assert Message.select().where((Message.direction == "in") & (Message.state == "automated")).count() == 2
    # the same row again: already answered, nothing more written
    post_webhook(_list_reply(payload("wa_interactive.json"), four["id"], "4"))
    with app.app_context(), database.connection_context():
        assert SurveyAnswer.select().count() == 1


def test_resolved_needs_a_linked_sender(app, client, auth, post_webhook, payload):
    post_webhook(fresh(payload("wa_text.json")))  # nobody has this number
    with app.app_context(), database.connection_context():
        sender = Sender.get()
    auth.login("officer")
    response = client.post(f"/social/senders/{sender.id}/resolved")
    assert response.status_code == 302
    from portal.satisfaction.models import Survey

    with app.app_context(), database.connection_context():
        assert Survey.select().count() == 0


def test_a_rating_by_whatsapp_stays_with_the_survey_not_in_the_conversation(app, client, auth, graph,
                                                                           make_beneficiary, post_webhook, payload):
    """Not for punishment: the chosen score and the comment that follows are kept with the survey only. The
    conversation, the timeline and the stored webhook body keep that a message came, never its words; the
    beneficiary's next ordinary message is shown as usual."""
    import json

    from portal.models import TimelineEntry
    from portal.satisfaction.models import Survey, SurveyAnswer

    from plugins.social.models import WebhookDelivery

    ben = make_beneficiary(mobile="0551112233", preferred_channel="social", consent_contact=True)
    post_webhook(fresh(payload("wa_text.json")))
    with app.app_context(), database.connection_context():
        sender = Sender.get()
    auth.login("officer")
    client.post(f"/social/senders/{sender.id}/resolved")
    rows = graph.sent()[-1]["json"]["interactive"]["action"]["sections"][0]["rows"]
    three = next(r for r in rows if r["title"] == "3")
    post_webhook(_list_reply(payload("wa_interactive.json"), three["id"], "٣ متوسط"))
    post_webhook(_text(payload("wa_text.json"), "الانتظار في الفرع كان طويلًا جدًا", "-c"))
    post_webhook(_text(payload("wa_text.json"), "هل وصلت أوراقي؟", "-d"))  # an ordinary message after the comment
    with app.app_context(), database.connection_context():
        answer = SurveyAnswer.get()
        assert (answer.overall, answer.comment) == (3, "الانتظار في الفرع كان طويلًا جدًا")
        assert Survey.get().answered_at is not None
        private = [m for m in Message.select().where(Message.direction == "in") if m.payload == {"private": True}]
        assert len(private) == 2 and all(m.state == "automated" for m in private)
        entries = {m.entry_id: TimelineEntry.get_by_id(m.entry_id) for m in private}
        for entry in entries.values():
            assert entry.body == "" and entry.data.get("private") and "متوسط" not in entry.summary
            assert "reply_id" not in entry.data and entry.beneficiary_id == ben
        bodies = " ".join(d.body for d in WebhookDelivery.select())
        assert "طويلًا جدًا" not in bodies and "متوسط" not in bodies and three["id"] not in bodies
        assert any("هل وصلت أوراقي" in d.body for d in WebhookDelivery.select())
    for user in ("officer", "manager", "admin"):
        auth.login(user)
        for url in (f"/social/senders/{sender.id}", "/social/inbox", f"/beneficiaries/{ben}",
                    f"/beneficiaries/{ben}/timeline", "/social/deliveries", "/"):
            page = client.get(url)
            if page.status_code != 200:
                continue
            html = page.get_data(as_text=True)
            assert "طويلًا جدًا" not in html and "متوسط" not in html, (user, url)
            if url == f"/social/senders/{sender.id}" or url.endswith("/timeline"):
                assert "هل وصلت أوراقي" in html, (user, url)
        auth.logout()
