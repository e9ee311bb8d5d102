"""``send_message`` with ``context["to"]`` (answer the number that wrote, with or without a file) and
``context["interactive"]`` (a WhatsApp list or reply buttons, Meta Cloud API shapes)."""
from social_helpers import app_config, graph, payload, post_webhook, smtp  # noqa: F401  (fixtures)
from social_helpers import fresh

from portal.db import database
from portal.models import TimelineEntry
from portal.plugins import hook

from plugins.social.models import Message
from plugins.social.outbound import _interactive


def answer(app, text, context, channel="social"):
    with app.test_request_context(), database.connection_context():
        return hook().send_message(beneficiary=None, text=text, purpose="self_service", channel=channel,
                                   context=context)


def test_a_number_without_a_file_gets_reply_buttons_inside_the_window(app, graph, post_webhook, payload):
    post_webhook(fresh(payload("wa_text.json")))  # +966551112233 wrote: the window is open
    buttons = {"type": "button", "body": "اختر", "buttons": [{"id": "hr:question", "title": "طرح سؤال"},
                                                             {"id": "hr:info", "title": "عن الجمعية"}]}
    result = answer(app, "1 - طرح سؤال", {"to": "+966551112233", "interactive": buttons})
    assert result["channel"] == "social"
    body = graph.sent()[-1]["json"]
    assert body["to"] == "966551112233" and body["type"] == "interactive"
    assert body["interactive"] == {"type": "button", "body": {"text": "اختر"}, "action": {"buttons": [
        {"type": "reply", "reply": {"id": "hr:question", "title": "طرح سؤال"}},
        {"type": "reply", "reply": {"id": "hr:info", "title": "عن الجمعية"}}]}}
    with app.app_context(), database.connection_context():
        out = Message.get(Message.direction == "out")
        assert out.state == "accepted" and TimelineEntry.get_by_id(out.entry_id).beneficiary_id is None


def test_a_list_is_cut_to_metas_limits_and_a_bad_shape_falls_back_to_text(app, graph, post_webhook, payload):
    post_webhook(fresh(payload("wa_text.json")))
    rows = [{"id": f"hr:{i}", "title": "عنوان طويل جدًا يتجاوز الحد المسموح", "description": "و" * 100}
            for i in range(12)]
    with app.app_context():
        listed = _interactive({"type": "list", "body": "ب" * 2000, "button": "اختر خدمة من القائمة الطويلة",
                               "sections": [{"title": "", "rows": rows}], "footer": "تذييل"})
        assert len(listed["body"]["text"]) == 1024 and len(listed["action"]["button"]) == 20
        assert len(listed["action"]["sections"][0]["rows"]) == 10 and "title" not in listed["action"]["sections"][0]
        assert all(len(r["title"]) <= 24 and len(r["description"]) <= 72 for r in listed["action"]["sections"][0]["rows"])
        assert _interactive({"type": "carousel", "body": "x"}) is None
        assert _interactive({"type": "button", "body": "x", "buttons": [{"id": "", "title": "t"}]}) is None
        assert _interactive({"type": "list", "body": "", "button": "b", "sections": [{"rows": rows}]}) is None
    answer(app, "القائمة", {"to": "+966551112233", "interactive": {"type": "carousel"}})
    assert graph.sent()[-1]["json"]["type"] == "text"


def test_an_answer_to_a_number_is_not_sent_on_another_channel(app, graph):
    assert answer(app, "مرحبا", {"to": "+966551112233"}, channel="sms") is None
    assert answer(app, "مرحبا", {}, channel="social") is None  # no number, no file: nowhere to send
    assert graph.sent() == []
