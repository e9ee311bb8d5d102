"""The self-service menu end to end, through the real webhook paths: a fake SMS gateway and the fake Graph API
(real HTTP servers on 127.0.0.1) receive the answers."""
import datetime as dt
import json

import pytest

from portal.db import database, utcnow
from portal.models import Case, TimelineEntry
from portal.text import FSI, PDI
from portal.workflow.models import OutreachTask

from plugins.help_requests.models import SelfServiceExchange, SelfServiceSession

SMS = pytest.mark.needs_plugins("sms")
WHATSAPP = pytest.mark.needs_plugins("social")


def sms_texts(gateway) -> list[str]:
    return [json.loads(r["body"])["text"] for r in gateway.requests]


def wa_sent(graph) -> list[dict]:
    return [r["json"] for r in graph.sent()]


@pytest.fixture
def case_of(app):
    def make(ben_id, reference="1448-000123", status="in_research", days_ago=3):
        with app.app_context(), database.connection_context():
            submitted = utcnow() - dt.timedelta(days=days_ago)
            return Case.create(reference=reference, beneficiary=ben_id, status=status, channel="website",
                               submitted_at=submitted, created_at=submitted).id

    return make


def entries(app, **where):
    with app.app_context(), database.connection_context():
        query = TimelineEntry.select().where(TimelineEntry.channel == "help_requests").order_by(TimelineEntry.id)
        return [(e.beneficiary_id, e.body, e.data) for e in query]


@SMS
def test_registered_number_walks_the_sms_menu_in_arabic(app, make_beneficiary, case_of, gateway, sms_in):
    ben = make_beneficiary(mobile="0501234567")
    case_of(ben)
    sms_in("+966501234567", "السلام عليكم")
    menu = sms_texts(gateway)[-1]
    assert "أهلًا بك في الخدمة الذاتية" in menu and "1 - حالة طلباتي" in menu and "0 - التحدث مع موظف" in menu
    assert json.loads(gateway.requests[-1]["body"])["to"] == "+966501234567"

    sms_in("0501234567", "١")  # Eastern digit, local writing of the number
    status = sms_texts(gateway)[-1]
    assert f"{FSI}1448-000123{PDI}" in status and "يدرسه الباحث الاجتماعي" in status
    assert "موعد الرد المتوقع" in status and "هـ" in status

    sms_in("+966501234567", "4")
    assert "سجلنا طلب الاتصال" in sms_texts(gateway)[-1]
    sms_in("+966501234567", "كيف حالكم")  # not a choice: the menu again, politely
    assert sms_texts(gateway)[-1].startswith("عذرًا، لم نفهم رسالتك.") and "1 - حالة طلباتي" in sms_texts(gateway)[-1]

    logged = entries(app)
    assert [e[0] for e in logged] == [ben] * 4
    assert [e[2]["choice"] for e in logged] == ["menu", "status", "callback", ""]
    assert all(e[2]["via"] == "sms" for e in logged) and logged[1][1] == "١"
    with app.app_context(), database.connection_context():
        task = OutreachTask.get()
        assert (task.beneficiary_id, task.kind) == (ben, "call_back") and "الرسائل النصية" in task.reason
        session = SelfServiceSession.get()
        assert (session.beneficiary_id, session.matches, session.exchanges, session.state) == (ben, 1, 4, "menu")


@SMS
def test_talk_to_staff_hands_over_and_the_menu_stays_silent(app, make_beneficiary, gateway, sms_in):
    ben = make_beneficiary(mobile="0501234567")
    sms_in("+966501234567", "0")
    assert "سيرد عليك أحد الموظفين" in sms_texts(gateway)[-1]
    sent = len(gateway.requests)
    sms_in("+966501234567", "أريد أن أسأل عن المساعدة الشهرية")
    assert len(gateway.requests) == sent  # an officer has the conversation now
    with app.app_context(), database.connection_context():
        assert OutreachTask.get().beneficiary_id == ben
        assert SelfServiceSession.get().state == "handed_over"
    sms_in("+966501234567", "قائمة")  # the menu is always reachable again
    assert "1 - حالة طلباتي" in sms_texts(gateway)[-1]


@SMS
def test_unregistered_number_gets_no_personal_data(app, make_beneficiary, case_of, gateway, sms_in):
    other = make_beneficiary(mobile="0501234567")
    case_of(other)
    sms_in("+966509999999", "مرحبا")
    menu = sms_texts(gateway)[-1]
    assert "هذا الرقم غير مسجل لدينا" in menu and "7 - عن الجمعية" in menu
    assert "حالة طلباتي" not in menu and "التحدث مع موظف" not in menu
    sms_in("+966509999999", "1")  # asks for the status anyway
    answer = sms_texts(gateway)[-1]
    assert answer.startswith("هذا الخيار غير متاح لرقمك.") and "1448-000123" not in answer
    sms_in("+966509999999", "7")
    assert "تخدم جمعية مراكز الأحياء" in sms_texts(gateway)[-1]
    assert all(e[0] is None for e in entries(app))
    with app.app_context(), database.connection_context():
        assert OutreachTask.select().count() == 0


@SMS
def test_number_on_two_files_is_handed_to_an_officer(app, make_beneficiary, case_of, gateway, sms_in):
    first = make_beneficiary(mobile="0507654321")
    make_beneficiary(mobile="0507654321")
    case_of(first)
    sms_in("+966507654321", "1")
    answer = sms_texts(gateway)[-1]
    assert "مسجل في أكثر من ملف" in answer and "1448-000123" not in answer and "سارة" not in answer
    with app.app_context(), database.connection_context():
        task = OutreachTask.get()
        assert task.beneficiary_id is None and "+966507654321" in task.reason and "2 ملفات" in task.reason
        assert SelfServiceSession.get().state == "handed_over"
    assert entries(app)[0][0] is None
    sent = len(gateway.requests)
    sms_in("+966507654321", "2")
    assert len(gateway.requests) == sent


@SMS
def test_english_keyword_answers_in_english(app, make_beneficiary, case_of, gateway, sms_in):
    ben = make_beneficiary(mobile="0501234567")
    case_of(ben, status="awaiting_committee")
    sms_in("+966501234567", "Menu")
    assert "1 - The status of my requests" in sms_texts(gateway)[-1]
    sms_in("+966501234567", "status")
    answer = sms_texts(gateway)[-1]
    assert "Your requests:" in answer and "With the committee for a decision" in answer and "AH" in answer


@SMS
def test_expired_conversation_starts_again_from_the_menu(app, make_beneficiary, gateway, sms_in):
    make_beneficiary(mobile="0501234567")
    sms_in("+966501234567", "مرحبا")
    with app.app_context(), database.connection_context():
        SelfServiceSession.update(expires_at=utcnow() - dt.timedelta(minutes=5)).execute()
    sms_in("+966501234567", "نعم")
    answer = sms_texts(gateway)[-1]
    assert answer.startswith("انتهت محادثتك السابقة بعد 30 دقيقة دون رد.") and "1 - حالة طلباتي" in answer
    with app.app_context(), database.connection_context():
        assert [s.state for s in SelfServiceSession.select().order_by(SelfServiceSession.id)] == ["closed", "menu"]


@SMS
def test_the_same_message_delivered_twice_is_answered_once(app, make_beneficiary, gateway, sms_in):
    make_beneficiary(mobile="0501234567")
    sms_in("+966501234567", "1", msg_id="gw-in-77")
    sms_in("+966501234567", "1", msg_id="gw-in-77")
    assert len(gateway.requests) == 1
    with app.app_context(), database.connection_context():
        assert SelfServiceExchange.select().count() == 1
        # offered again by a channel that did not notice the repeat: still one exchange, no answer
        from portal.messaging import InboundMessage, dispatch_inbound

        again = InboundMessage(channel="sms", sender="+966501234567", text="1", provider_id="gw-in-77",
                               beneficiary_ids=(SelfServiceSession.get().beneficiary_id,))
        assert dispatch_inbound(again) is True
        assert SelfServiceExchange.select().count() == 1
    assert len(gateway.requests) == 1


@WHATSAPP
def test_registered_number_on_whatsapp_gets_an_interactive_list(app, make_beneficiary, case_of, graph, wa_in):
    ben = make_beneficiary(mobile="0551112233")
    case_of(ben, reference="1448-000777")
    wa_in("966551112233", "قائمة")
    payload = wa_sent(graph)[-1]
    assert payload["type"] == "interactive" and payload["to"] == "966551112233"
    inter = payload["interactive"]
    assert inter["type"] == "list" and inter["action"]["button"] == "اختر خدمة"
    rows = inter["action"]["sections"][0]["rows"]
    assert rows[0]["id"] == "hr:status" and rows[0]["title"] == "1. طلباتي" and rows[-1]["id"] == "hr:staff"
    assert all(len(r["title"]) <= 24 and len(r.get("description", "")) <= 72 for r in rows)
    wa_in("966551112233", reply=("hr:status", "1. طلباتي"))
    answer = wa_sent(graph)[-1]
    assert answer["type"] == "text" and f"{FSI}1448-000777{PDI}" in answer["text"]["body"]
    from plugins.social.models import Message

    with app.app_context(), database.connection_context():
        inbound = list(Message.select().where(Message.direction == "in"))
        assert [m.state for m in inbound] == ["automated", "automated"]
    assert [e[0] for e in entries(app)] == [ben, ben]


@WHATSAPP
def test_unregistered_whatsapp_number_gets_buttons_and_stays_out_of_the_inbox(app, client, auth, make_beneficiary,
                                                                              case_of, graph, wa_in):
    other = make_beneficiary(mobile="0501234567")
    case_of(other)
    wa_in("966559998877", "السلام عليكم")
    payload = wa_sent(graph)[-1]
    assert payload["type"] == "interactive" and payload["interactive"]["type"] == "button"
    assert "هذا الرقم غير مسجل لدينا" in payload["interactive"]["body"]["text"]
    ids = [b["reply"]["id"] for b in payload["interactive"]["action"]["buttons"]]
    assert "hr:status" not in ids and "hr:info" in ids
    wa_in("966559998877", "1")
    answer = wa_sent(graph)[-1]
    body = answer["interactive"]["body"]["text"] if answer["type"] == "interactive" else answer["text"]["body"]
    assert "غير متاح لرقمك" in body and "1448-000123" not in json.dumps(answer, ensure_ascii=False)
    auth.login("officer")
    assert "أم خالد" not in client.get("/social/inbox").get_data(as_text=True)


@WHATSAPP
def test_whatsapp_talk_to_staff_reaches_the_inbox(app, client, auth, make_beneficiary, graph, wa_in):
    make_beneficiary(mobile="0551112233")
    make_beneficiary(mobile="0551112233")  # a shared number: no personal data, an officer decides
    wa_in("966551112233", "1")
    assert "مسجل في أكثر من ملف" in wa_sent(graph)[-1]["text"]["body"]
    auth.login("officer")
    assert "أم خالد" in client.get("/social/inbox").get_data(as_text=True)


@SMS
@pytest.mark.needs_plugins("website")
def test_start_a_support_request_sends_a_one_time_prefilled_link(app, client, make_beneficiary, gateway, sms_in):
    from portal.workflow.defaults import ensure_default_request_types

    with app.app_context(), database.connection_context():
        ensure_default_request_types()
    make_beneficiary(mobile="0501234567")
    sms_in("+966501234567", "قائمة")
    assert "5 - تقديم طلب دعم جديد" in sms_texts(gateway)[-1]
    sms_in("+966501234567", "٥")
    answer = sms_texts(gateway)[-1]
    assert "افتح هذا الرابط لتقديم طلب الدعم" in answer and "يعمل الرابط مرة واحدة" in answer
    url = answer.split(FSI + "http://localhost", 1)[1].split(PDI, 1)[0]
    assert url.startswith("/site/apply/link/")
    assert client.post(url).status_code == 302
    assert 'value="سارة"' in client.get("/site/apply/applicant").get_data(as_text=True)
    assert client.post(url).status_code == 410


@SMS
def test_officers_see_the_conversations_and_the_timeline(app, client, auth, make_beneficiary, case_of, gateway,
                                                       sms_in):
    ben = make_beneficiary(mobile="0501234567")
    case_of(ben)
    sms_in("+966501234567", "1")
    sms_in("+966509999999", "مرحبا")
    auth.login("officer")
    page = client.get("/help-requests/sessions").get_data(as_text=True)
    assert "محادثات الخدمة الذاتية" in page and "سارة" in page and "لا ملف" in page and "966509999999" in page
    only = client.get("/help-requests/sessions?state=handed_over", headers={"HX-Request": "true"})
    assert "<html" not in only.get_data(as_text=True) and "لا توجد محادثات بعد." in only.get_data(as_text=True)
    with app.app_context(), database.connection_context():
        session_id = SelfServiceSession.get(SelfServiceSession.beneficiary == ben).id
    detail = client.get(f"/help-requests/sessions/{session_id}").get_data(as_text=True)
    assert "1448-000123" in detail and "يدرسه الباحث الاجتماعي" in detail
    assert client.get("/help-requests/sessions/999999").status_code == 404
    profile = client.get(f"/beneficiaries/{ben}").get_data(as_text=True)
    assert "الخدمة الذاتية: حالة طلباتي" in profile and "ردت القائمة" in profile and "سُلّم الرد إلى القناة" in profile
    assert "أرسل «قائمة» للاطلاع على الخدمات الأخرى." in profile
    english = client.get(f"/help-requests/sessions/{session_id}?lang=en").get_data(as_text=True)
    assert "Self-service conversation" in english


@SMS
def test_export_and_erasure_cover_the_conversations(app, make_beneficiary, gateway, sms_in):
    ben = make_beneficiary(mobile="0501234567")
    sms_in("+966501234567", "1")
    from plugins import help_requests

    with app.app_context(), database.connection_context():
        from portal.models import Beneficiary

        b = Beneficiary.get_by_id(ben)
        exported = help_requests.beneficiary_data(b)
        assert exported["data"][0]["number"] == "+966501234567" and exported["data"][0]["exchanges"][0]["received"] == "1"
        result = help_requests.anonymise_beneficiary(b, None, None)
        assert result["anonymised"] == 2
        assert SelfServiceSession.get().sender == "" and SelfServiceExchange.get().received == ""


def test_api_cannot_write_the_menus_keys(app):
    from plugins import help_requests

    with app.test_request_context("/"):
        assert help_requests.validate_entry_data("help_requests", {"reply": "x", "note": "y"})
        assert help_requests.validate_entry_data("help_requests", {"note": "y"}) is None
        assert help_requests.validate_entry_data("sms", {"reply": "x"}) is None


@SMS
def test_a_registered_number_asks_a_question_into_the_register(app, make_beneficiary, gateway, sms_in):
    from portal.complaints import Complaint

    ben = make_beneficiary(mobile="0501234567")
    sms_in("+966501234567", "3")
    assert "اكتب سؤالك في رسالة واحدة" in sms_texts(gateway)[-1]
    sms_in("+966501234567", "x" * 4001)  # too long: refused, the question is still awaited
    assert "سؤالك طويل جدًا" in sms_texts(gateway)[-1]
    sms_in("+966501234567", "هل تشمل السلة الغذائية الأسر الجديدة في الحي؟")
    answer = sms_texts(gateway)[-1]
    with app.app_context(), database.connection_context():
        item = Complaint.get()
        assert (item.kind, item.channel, item.beneficiary_id, item.contact_mobile, item.source) == (
            "inquiry", "help_requests", ben, "+966501234567", "help_requests")
        assert item.text == "هل تشمل السلة الغذائية الأسر الجديدة في الحي؟" and not item.contact_requested
    assert f"استلمنا سؤالك برقم {FSI}{item.reference}{PDI}" in answer and "سنجيبك في موعد أقصاه" in answer
    sms_in("+966501234567", "شكرًا")  # back at the menu: not a second question
    with app.app_context(), database.connection_context():
        assert Complaint.select().count() == 1


@WHATSAPP
def test_an_unregistered_number_asks_a_question_on_whatsapp(app, make_beneficiary, graph, wa_in):
    from portal.complaints import Complaint

    wa_in("966559998877", reply=("hr:question", "طرح سؤال"))
    assert "اكتب سؤالك" in wa_sent(graph)[-1]["text"]["body"]
    wa_in("966559998877", "متى يفتح المكتب يوم السبت؟")
    with app.app_context(), database.connection_context():
        item = Complaint.get()
        assert item.beneficiary_id is None and item.contact_mobile == "+966559998877" and item.contact_requested
    assert item.reference in wa_sent(graph)[-1]["text"]["body"]


@SMS
def test_a_question_after_the_conversation_expired_is_not_registered(app, make_beneficiary, gateway, sms_in):
    from portal.complaints import Complaint

    make_beneficiary(mobile="0501234567")
    sms_in("+966501234567", "سؤال")
    with app.app_context(), database.connection_context():
        SelfServiceSession.update(expires_at=utcnow() - dt.timedelta(minutes=1)).execute()
    sms_in("+966501234567", "هل يمكنني تعديل رقم الجوال؟")
    assert sms_texts(gateway)[-1].startswith("انتهت محادثتك السابقة")
    with app.app_context(), database.connection_context():
        assert Complaint.select().count() == 0


@WHATSAPP
def test_an_answer_to_an_officer_is_left_to_the_officer(app, client, auth, graph, wa_in):
    from plugins.social.models import Message, Sender

    wa_in("966559998877", "السلام عليكم")  # the menu answers the first message
    auth.login("officer")
    with app.app_context(), database.connection_context():
        sender_id = Sender.get().id
    assert client.post(f"/social/senders/{sender_id}/reply", data={"text": "كم عدد أفراد أسرتك؟"}).status_code == 302
    sent = len(graph.sent())
    wa_in("966559998877", "3")  # answers the officer's question: not the menu's "ask a question"
    assert len(graph.sent()) == sent
    with app.app_context(), database.connection_context():
        last = Message.select().where(Message.direction == "in").order_by(Message.id.desc()).first()
        assert last.state == "received"  # stays for the officer in the inbox
    assert "كم عدد أفراد أسرتك" in client.get(f"/social/senders/{sender_id}").get_data(as_text=True)
    wa_in("966559998877", "قائمة")  # the menu word still opens the menu
    assert len(graph.sent()) == sent + 1 and graph.sent()[-1]["json"]["type"] == "interactive"


@SMS
def test_an_sms_answer_to_an_officer_is_left_to_the_officer(app, client, auth, make_beneficiary, gateway, sms_in):
    ben = make_beneficiary(mobile="0501234567")
    with app.app_context(), database.connection_context():
        from portal.models import Beneficiary

        Beneficiary.update(consent_contact=True).where(Beneficiary.id == ben).execute()
    auth.login("officer")
    client.post(f"/sms/to/{ben}", data={"text": "هل ما زلت تسكن في حي العزيزية؟ أجب بنعم أو لا"})
    sent = len(gateway.requests)
    sms_in("+966501234567", "1")
    assert len(gateway.requests) == sent
    with app.app_context(), database.connection_context():
        assert SelfServiceExchange.select().count() == 0


def test_the_menus_answers_are_not_held_by_the_quiet_hours():
    from portal.quiet import quiet_until

    at_2330_saudi = dt.datetime(2026, 11, 30, 20, 30)  # naive UTC
    assert quiet_until(at_2330_saudi, "22:00-08:00", "case_reference") is not None
    assert quiet_until(at_2330_saudi, "22:00-08:00", "self_service") is None
