"""A notice on every step of a request (``portal.workflow.notices``): one per status change, through
``case_status_changed``; consent, quiet hours, the daily cap and the routing order."""
from __future__ import annotations

import datetime as dt

import pytest

from portal import hookimpl
from portal.models import TimelineEntry
from portal.workflow import machine, notices
from portal.workflow.models import Notice

from .conftest import STEPS

FSI, PDI = "\u2068", "\u2069"


class Channels:
    """Throwaway routed channels: each answers ``send_message`` only for its own key, when ``up``."""

    def __init__(self, app, *specs):
        self.sent: list[dict] = []
        self.up = {key: True for key, _rank in specs}
        self.plugins = []
        box = self
        for key, rank in specs:
            class Plugin:
                @hookimpl
                def channel_info(self, _key=key, _rank=rank):
                    return {"key": _key, "label_ar": _key, "label_en": _key, "icon": "*", "route": _rank,
                            "manual": False}

                @hookimpl
                def send_message(self, beneficiary, text, purpose, channel, context, _key=key):
                    if channel != _key or not box.up[_key]:
                        return None
                    box.sent.append({"channel": _key, "text": text, "purpose": purpose, "context": context,
                                     "beneficiary": beneficiary.id})
                    return {"channel": _key, "id": f"{_key}-{len(box.sent)}"}

            plugin = Plugin()
            app.extensions["portal_pm"].register(plugin, name=f"test-channel-{key}")
            self.plugins.append(plugin)

    def close(self, app):
        for plugin in self.plugins:
            app.extensions["portal_pm"].unregister(plugin)


@pytest.fixture
def channels(app):
    box = Channels(app, ("tchat", 1), ("ttext", 2), ("tpost", 3))
    yield box
    box.close(app)


def consenting(wf, **overrides):
    return wf.ready_beneficiary(consent_contact=True, **overrides)


def test_one_request_through_every_step_sends_one_notice_per_status_change(wf, channels):
    ben = consenting(wf)
    case = wf.case("draft", ben=ben)
    for step in ("incomplete", "submit", "declare", "refer", "report", "to_committee", "approve", "register",
                 "serve", "close"):
        case = STEPS[step](wf, case)
    purposes = [m["purpose"] for m in channels.sent]
    assert purposes == ["missing_documents", "case_reference", "research_referral", "committee_expected_reply",
                        "decision", "registration", "service", "case_closed"]
    changes = (TimelineEntry.select().where((TimelineEntry.case == case.id)
                                            & (TimelineEntry.direction == "internal")).count())
    assert Notice.select().where(Notice.case == case.id).count() == len(purposes)
    assert all(m["channel"] == "tchat" for m in channels.sent)  # the first routed channel took each
    texts = {m["purpose"]: m["text"] for m in channels.sent}
    ref = f"{FSI}{case.reference}{PDI}"
    assert ref in texts["case_reference"] and "نرد عليك قبل" in texts["case_reference"]
    assert "صورة غير واضحة" in texts["missing_documents"]  # the officer's note (no document is missing)
    assert "الرد المتوقع قبل" in texts["committee_expected_reply"]
    assert f"{FSI}500{PDI} ريال" in texts["decision"]
    assert "قيّم الخدمة" in texts["service"] and "/site/rate/" in texts["service"]  # the survey's link (core surveys)
    assert changes >= len(purposes)
    # a double submission (the same change again) and a replayed hook send nothing more
    again = machine.transition(case, "close", actor=wf.user("officer"), expected_version=case.version - 1)
    assert again.changed is False
    notices.on_status_changed(case, "served", "closed", None)
    assert len(channels.sent) == len(purposes)


def test_withdrawn_and_rejected_notices(wf, channels):
    case = wf.case("awaiting_committee", ben=consenting(wf))
    case = STEPS["reject"](wf, case)
    text = channels.sent[-1]["text"]
    assert "لا تنطبق الشروط" in text and "إعادة النظر" in text and channels.sent[-1]["purpose"] == "decision"
    other = wf.case("submitted", ben=consenting(wf))
    machine.transition(other, "withdraw", actor=wf.user("officer"))
    assert channels.sent[-1]["purpose"] == "case_withdrawn"


def test_routing_preferred_first_then_by_rank_then_the_print_queue(wf, channels):
    ben = consenting(wf, preferred_channel="ttext")
    notices.deliver(ben, "نص", "research_referral", key="r1")
    assert channels.sent[-1]["channel"] == "ttext"
    channels.up["ttext"] = False
    notices.deliver(ben, "نص", "research_referral", key="r2")
    assert channels.sent[-1]["channel"] == "tchat"
    channels.up["tchat"] = False
    notice = notices.deliver(ben, "نص", "research_referral", key="r3")
    assert channels.sent[-1]["channel"] == "tpost" and notice.state == "sent" and notice.channel == "tpost"
    channels.up["tpost"] = False
    notice = notices.deliver(ben, "نص", "research_referral", key="r4")
    assert notice.state == "not_sent"
    from portal.models import OutboxMessage

    assert OutboxMessage.select().where(OutboxMessage.beneficiary == ben.id).count() == 1
    # the same key again: nothing
    assert notices.deliver(ben, "نص", "research_referral", key="r4") is None


def test_no_message_without_contact_consent_but_the_decision(wf, channels):
    ben = wf.ready_beneficiary()  # consent_contact False
    notice = notices.deliver(ben, "نص", "research_referral", key="c1")
    assert notice.state == "no_consent" and channels.sent == []
    entry = TimelineEntry.get_by_id(notice.entry_id)
    assert entry.data["no_consent"] is True and "لم يوافق" in entry.summary
    notice = notices.deliver(ben, "قرار", "decision", key="c2")
    assert notice.state == "sent" and channels.sent[-1]["purpose"] == "decision"


def test_quiet_hours_at_23_30_hold_the_notice_until_morning(app, wf, channels):
    app.config["QUIET_HOURS"] = "22:00-08:00"
    ben = consenting(wf)
    at_2330 = dt.datetime(2026, 12, 9, 20, 30)  # 23:30 in Riyadh
    notice = notices.deliver(ben, "نص", "research_referral", key="q1", now=at_2330)
    assert notice.state == "waiting" and notice.held == "quiet" and channels.sent == []
    assert notice.due_at == dt.datetime(2026, 12, 10, 5, 0)  # 08:00 in Riyadh
    entry = TimelineEntry.get_by_id(notice.entry_id)
    assert entry.data["held"] == "quiet" and "2026-12-10 08:00" in entry.summary
    # urgent messages are exempt
    assert notices.deliver(ben, "123456", "one_time_code", key="q2", now=at_2330).state == "sent"
    assert notices.send_due(now=dt.datetime(2026, 12, 10, 4, 0)) == 0  # 07:00: still quiet
    assert notices.send_due(now=dt.datetime(2026, 12, 10, 5, 1)) == 1
    assert Notice.get_by_id(notice.id).state == "sent" and channels.sent[-1]["text"] == "نص"
    assert notices.send_due(now=dt.datetime(2026, 12, 10, 5, 2)) == 0  # never twice


def test_the_daily_cap_defers_to_the_next_day_and_urgent_ones_pass(app, wf, channels):
    app.config["NOTICES_DAILY_CAP"] = 2
    ben = consenting(wf)
    noon = dt.datetime(2026, 12, 9, 9, 0)
    states = [notices.deliver(ben, f"نص {i}", "research_referral", key=f"cap{i}", now=noon).state for i in range(3)]
    assert states == ["sent", "sent", "waiting"]
    held = Notice.get(Notice.key == "cap2")
    assert held.held == "cap" and held.due_at == dt.datetime(2026, 12, 9, 21, 0)  # midnight in Riyadh
    assert "الحد اليومي" in TimelineEntry.get_by_id(held.entry_id).summary
    assert notices.deliver(ben, "123456", "one_time_code", key="otp", now=noon).state == "sent"
    assert notices.send_due(now=dt.datetime(2026, 12, 9, 21, 1)) == 1
    assert Notice.get_by_id(held.id).state == "sent"


def test_hook_notice_context(app, wf, channels):
    class Rating:
        @hookimpl
        def notice_context(self, case, purpose):
            if purpose != "service":
                return None
            return {"rating_link": f"https://example.org/rate/{case.id}" if case is not None else ""}

    plugin = Rating()
    app.extensions["portal_pm"].register(plugin, name="test-rating")
    try:
        assert "rating_link" in notices.allowed_placeholders("served")
        case = wf.case("served", ben=consenting(wf))
    finally:
        app.extensions["portal_pm"].unregister(plugin)
    text = channels.sent[-1]["text"]
    assert channels.sent[-1]["purpose"] == "service"
    assert f"{FSI}https://example.org/rate/{case.id}{PDI}" in text


def test_editable_texts_refuse_an_unknown_placeholder_and_fill_the_saved_one(wf, channels):
    officer = wf.user("admin")
    with pytest.raises(notices.NoticeTextError) as info:
        notices.save_wording("in_research", text_ar="طلبك {reference} عند {researcher}", text_en="Request {reference}",
                             template="research_referral", actor=officer)
    assert "text_ar" in info.value.errors and "{researcher}" in str(info.value.errors["text_ar"])
    with pytest.raises(notices.NoticeTextError) as info:
        notices.save_wording("in_research", text_ar="طلبك {reference", text_en="x", template="Bad Name!", actor=officer)
    assert set(info.value.errors) == {"text_ar", "template"}
    notices.save_wording("in_research", text_ar="أهلًا {name}، طلبك {reference} عند الباحث.",
                         text_en="Hello {name}, request {reference} is with a researcher.",
                         template="case_research", actor=officer)
    case = wf.case("in_research", ben=consenting(wf))
    sent = channels.sent[-1]
    assert sent["text"] == f"أهلًا سارة، طلبك {FSI}{case.reference}{PDI} عند الباحث."
    assert sent["context"]["template"] == "case_research"
    assert notices.render(case, "in_research", "en") == (
        f"Hello سارة, request {FSI}{case.reference}{PDI} is with a researcher.")


def test_admin_edits_a_notice_with_a_preview_in_arabic_and_english(app, client, auth, wf):
    from portal.workflow.models import NoticeText

    auth.login("admin")
    page = client.get("/admin/notices").get_data(as_text=True)
    assert "/admin/notices/awaiting_committee" in page
    assert client.get("/admin/notices/nonsense").status_code == 404
    form = {"text_ar": "طلبك {reference} لدى اللجنة حتى {expected_date}", "text_en": "Request {reference} until "
            "{expected_date}", "template": "committee_date"}
    preview = client.post("/admin/notices/awaiting_committee", data=dict(form, action="preview"))
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "1448-000123" in html and "Request" in html and 'id="preview"' in html
    assert NoticeText.select().count() == 0  # a preview saves nothing
    bad = client.post("/admin/notices/awaiting_committee", data=dict(form, text_en="Request {referense}",
                                                                     action="save"))
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "{referense}" in html and "طلبك {reference} لدى اللجنة" in html
    assert NoticeText.select().count() == 0
    saved = client.post("/admin/notices/awaiting_committee", data=dict(form, action="save"))
    assert saved.status_code == 302
    row = NoticeText.get(NoticeText.key == "awaiting_committee")
    assert row.template == "committee_date" and row.text_en.startswith("Request")
    client.post("/language", data={"lang": "en", "next": "/admin/notices/awaiting_committee"})
    page = client.get("/admin/notices/awaiting_committee").get_data(as_text=True)
    assert "Notices to beneficiaries" in page and "Back to the default text" in page
    client.post("/admin/notices/awaiting_committee", data={"action": "reset"})
    assert NoticeText.select().count() == 0
