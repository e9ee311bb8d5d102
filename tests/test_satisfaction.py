"""Satisfaction surveys: the arithmetic, the k rule, fatigue, the public page, replies, the staff form, the API."""
import datetime as dt

import pytest

from portal.db import database, utcnow
from satisfaction_helpers import Transport, registered_case, reject, serve, token_in
from conftest import text_of


@pytest.fixture
def transport():
    return Transport()


@pytest.fixture
def sat_app(app_config, transport):
    app_config["EXTRA_PLUGINS"] = (transport,)
    app_config["QUIET_HOURS"] = ""  # the notices' quiet hours have their own tests
    return app_config


@pytest.fixture
def app_with_transport(sat_app, app):
    return app


def _ben(make_beneficiary, **kw):
    kw.setdefault("consent_contact", True)
    return make_beneficiary(**kw)


def _answer(survey, overall, recommend=None, **kw):
    from portal.satisfaction import service

    values = service.AnswerInput(overall, recommend, kw.pop("dims", {}), kw.pop("comment", ""), False, False)
    return service.record_answer(survey, values, via=kw.pop("via", "link"), **kw)


def _survey(ben_id, source, **kw):
    from portal.satisfaction import service

    return service.offer(beneficiary=ben_id, kind=kw.pop("kind", "call"), source=source, send=False, force=True, **kw)


# --- arithmetic ---------------------------------------------------------------------------------------

def test_csat_and_nps_arithmetic_on_hand_made_sets():
    from portal.satisfaction.metrics import csat_of, nps_of

    assert csat_of([]) is None and nps_of([]) is None
    assert csat_of([5]) == 100.0 and csat_of([3]) == 0.0
    assert csat_of([5, 4, 3, 2, 1]) == 40.0
    assert csat_of([4, 4, 1]) == 66.7
    assert nps_of([10]) == 100.0 and nps_of([6]) == -100.0 and nps_of([7]) == 0.0
    assert nps_of([10, 9, 8, 7, 6, 0]) == 0.0
    assert nps_of([10, 10, 10, 0]) == 50.0
    assert nps_of([9, 6, 6]) == -33.3


def test_figures_from_the_database_match_the_arithmetic(app_with_transport, make_beneficiary, users):
    from portal.satisfaction import metrics

    overall = [5, 4, 4, 3, 5, 2]
    recommend = [10, 9, None, 6, 8, 0]
    with app_with_transport.app_context(), database.connection_context():
        assert metrics.total().responses == 0 and metrics.total().csat is None and metrics.total().nps is None
        for n, (o, r) in enumerate(zip(overall, recommend)):
            ben = _ben(make_beneficiary)
            survey = _survey(ben, f"t:{n}")
            if o <= 2:
                continue  # a low score opens a complaint: tested with the register
            _answer(survey, o, r, dims={"speed": o})
        kept = [(o, r) for o, r in zip(overall, recommend) if o > 2]
        t = metrics.total()
        assert t.responses == len(kept)
        assert t.csat == metrics.csat_of([o for o, _ in kept])
        assert t.nps == metrics.nps_of([r for _, r in kept])
        assert t.dimensions["speed"] == round(sum(o for o, _ in kept) / len(kept), 2)
        # offered = answered + the one left unanswered (made but never sent)... only sent or answered count
        assert t.offered == len(kept) and t.response_rate == 100.0


def test_single_answer(app_with_transport, make_beneficiary):
    from portal.satisfaction import metrics

    with app_with_transport.app_context(), database.connection_context():
        _answer(_survey(_ben(make_beneficiary), "one"), 4, 10)
        t = metrics.total()
        assert (t.responses, t.csat, t.nps) == (1, 100.0, 100.0)


def test_k_rule_hides_a_staff_member_below_five_answers(app_with_transport, client, auth, users, make_beneficiary):
    from portal.models import User
    from portal.satisfaction import metrics

    with app_with_transport.app_context(), database.connection_context():
        officer = User.get_by_id(users["officer"])
        researcher = User.get_by_id(users["researcher"])
        for n in range(3):
            _answer(_survey(_ben(make_beneficiary), f"o:{n}", staff=officer), 5, 10)
        for n in range(5):
            _answer(_survey(_ben(make_beneficiary), f"r:{n}", staff=researcher), 4, 9,
                    comment="الانتظار طويل <b>جدًا</b>" if n == 0 else "")
        rows = {r.key: r for r in metrics.figures("staff")}
        assert rows[officer.id].hidden and rows[officer.id].csat is None and rows[officer.id].scores == {}
        assert not rows[researcher.id].hidden and rows[researcher.id].csat == 100.0
    auth.login("manager")
    page = client.get("/satisfaction/")
    assert page.status_code == 200
    text = text_of(page)
    assert "Not enough answers yet" in text or "لا توجد إجابات كافية بعد" in text
    html = page.get_data(as_text=True)
    assert html.count('role="img"') >= 4 and 'id="sat-staff"' in html  # charts, each with its table
    # no beneficiary's name appears on the report; the comment does, as text
    assert "سارة" not in text
    assert "الانتظار طويل &lt;b&gt;جدًا&lt;/b&gt;" in page.get_data(as_text=True)


# --- offering: consent, fatigue, opt-out ------------------------------------------------------------

def test_a_rejected_request_sends_the_survey_as_its_own_message(app_with_transport, transport, make_beneficiary):
    from portal.satisfaction.models import Survey
    from portal.workflow import machine

    ben = _ben(make_beneficiary, preferred_channel="pigeon")
    with app_with_transport.app_context(), database.connection_context():
        from portal.models import Case

        case = Case.create(reference="1448-000009", beneficiary=ben, request_type="rent", channel="pigeon",
                           status="awaiting_committee", decision_reasons="لا تنطبق الشروط")
        machine.transition(case, "reject")
        survey = Survey.get(Survey.beneficiary == ben)
        assert survey.sent_state == "sent" and survey.sent_channel == "pigeon"
    surveys = [m for m in transport.sent if m["purpose"] == "survey"]
    assert len(surveys) == 1 and surveys[0]["channel"] == "pigeon"
    assert [c["title"] for c in surveys[0]["context"]["survey_choices"]] == ["5", "4", "3", "2", "1"]



def test_a_served_request_sends_a_survey_on_the_beneficiarys_channel(app_with_transport, transport, make_beneficiary,
                                                                     users):
    from portal.models import Beneficiary
    from portal.satisfaction import service
    from portal.satisfaction.models import Survey

    ben = _ben(make_beneficiary, preferred_channel="pigeon")
    with app_with_transport.app_context(), database.connection_context():
        case = registered_case(ben)
        serve(case)
        survey = Survey.get(Survey.beneficiary == ben)
        assert survey.kind == "served" and survey.request_type == "food_basket"
        # the "served" notice carries the rating link: one message, not two; handed on, never claimed as sent
        assert len(transport.sent) == 1 and transport.sent[0]["purpose"] != "survey"
        assert token_in(transport.sent[0]["text"]) == service.token_for(survey)
        assert survey.sent_state == "queued" and survey.sent_at is not None
        # closing the served request makes no second survey
        from portal.workflow import machine

        machine.transition(case, "close")
        assert Survey.select().where(Survey.beneficiary == ben).count() == 1
        assert Beneficiary.get_by_id(ben).consent_contact


def test_no_contact_consent_means_not_sent(app_with_transport, transport, make_beneficiary):
    from portal.satisfaction.models import Survey

    ben = make_beneficiary(consent_contact=False)
    with app_with_transport.app_context(), database.connection_context():
        serve(registered_case(ben))
        survey = Survey.get(Survey.beneficiary == ben)
        assert survey.sent_at is None and survey.not_sent_reason == "no_consent"
        assert not any("/site/rate/" in m["text"] for m in transport.sent)


def test_not_sent_when_no_transport_accepts(app_config, make_beneficiary):
    app_config["EXTRA_PLUGINS"] = (Transport(accept=False),)
    from portal import create_app

    app = create_app(app_config)
    ben = _ben(make_beneficiary)
    with app.app_context(), database.connection_context():
        from portal.satisfaction.models import Survey

        reject(ben)
        survey = Survey.get(Survey.beneficiary == ben)
        assert survey.sent_state == "" and survey.not_sent_reason == "no_channel"


def test_fatigue_one_survey_in_thirty_days_across_channels(app_with_transport, transport, make_beneficiary):
    from portal.plugins import hook
    from portal.satisfaction import service
    from portal.satisfaction.models import Survey

    ben = _ben(make_beneficiary)
    with app_with_transport.app_context(), database.connection_context():
        from portal.models import Beneficiary

        b = Beneficiary.get_by_id(ben)
        serve(registered_case(ben))
        hook().service_finished(beneficiary=b, kind="call", channel="other", case=None, staff=None, source="call:1")
        hook().service_finished(beneficiary=b, kind="conversation", channel="pigeon", case=None, staff=None,
                                source="chat:1")
        assert Survey.select().where(Survey.beneficiary == ben).count() == 1
        later = utcnow() + dt.timedelta(days=31)
        assert service.offer(beneficiary=b, kind="call", source="call:2", now=later) is not None
        # the same service never gets two surveys, even later
        assert service.offer(beneficiary=b, kind="call", source="call:2", now=later + dt.timedelta(days=60)) is None
        assert len(transport.sent) == 2


def test_opted_out_beneficiary_gets_no_survey(app_with_transport, transport, make_beneficiary):
    from portal.models import Beneficiary
    from portal.satisfaction import service
    from portal.satisfaction.models import Survey

    ben = _ben(make_beneficiary)
    with app_with_transport.app_context(), database.connection_context():
        service.opt_out(Beneficiary.get_by_id(ben), via="desk")
        serve(registered_case(ben))
        assert not Survey.select().where(Survey.beneficiary == ben).exists()
        # the served notice still goes, without its rating line
        assert transport.sent and not any("/site/rate/" in m["text"] for m in transport.sent)


# --- the public page ------------------------------------------------------------------------------

def _sent_token(app, transport, make_beneficiary):
    ben = _ben(make_beneficiary)
    with app.app_context(), database.connection_context():
        serve(registered_case(ben))
    return ben, token_in(transport.sent[-1]["text"])


def test_public_page_answer_once(app_with_transport, transport, client, make_beneficiary):
    from portal.satisfaction.models import SurveyAnswer

    ben, token = _sent_token(app_with_transport, transport, make_beneficiary)
    page = client.get(f"/site/rate/{token}?lang=en")
    assert page.status_code == 200 and 'name="overall"' in page.get_data(as_text=True)
    form = {"overall": "4", "recommend": "9", "speed": "5", "courtesy": "4", "clarity": "3", "fairness": "4",
            "reach": "5", "comment": "خدمة ممتازة <script>alert(1)</script>\u202eabc"}
    done = client.post(f"/site/rate/{token}", data=form)
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/site/rate/{token}/thanks")
    thanks = client.get(done.headers["Location"] + "?lang=en")
    assert "Thank you for your answer" in thanks.get_data(as_text=True)
    again = client.get(f"/site/rate/{token}?lang=en")
    assert "already answered" in again.get_data(as_text=True)
    second = client.post(f"/site/rate/{token}?lang=en", data=dict(form, overall="5"))
    assert "already answered" in second.get_data(as_text=True)
    with app_with_transport.app_context(), database.connection_context():
        answers = list(SurveyAnswer.select())
        assert len(answers) == 1 and answers[0].overall == 4 and answers[0].via == "link"
        assert "\u202e" not in answers[0].comment  # direction overrides removed
        assert "<script>" in answers[0].comment  # kept as text, escaped wherever shown


def test_public_page_bad_input(app_with_transport, transport, client, make_beneficiary):
    from portal.satisfaction.models import Survey, SurveyAnswer

    ben, token = _sent_token(app_with_transport, transport, make_beneficiary)
    missing = client.post(f"/site/rate/{token}?lang=en", data={"comment": "بقي النص"})
    assert missing.status_code == 422
    body = missing.get_data(as_text=True)
    assert "Choose a score from 1 to 5" in body and "بقي النص" in body
    out_of_range = client.post(f"/site/rate/{token}?lang=en", data={"overall": "6", "recommend": "11"})
    assert out_of_range.status_code == 422 and "Choose a score from 0 to 10" in out_of_range.get_data(as_text=True)
    not_a_number = client.post(f"/site/rate/{token}", data={"overall": "-1"})
    assert not_a_number.status_code == 422
    forged = client.get(f"/site/rate/{token[:-1]}{'0' if token[-1] != '0' else '1'}?lang=en")
    assert forged.status_code == 404 and "not valid" in forged.get_data(as_text=True)
    assert client.get("/site/rate/nothing?lang=en").status_code == 404
    assert client.post(f"/site/rate/x.{'0' * 16}", data={"overall": "5"}).status_code == 404
    with app_with_transport.app_context(), database.connection_context():
        assert not SurveyAnswer.select().exists()
        Survey.update(expires_at=utcnow() - dt.timedelta(minutes=1)).execute()
    expired = client.post(f"/site/rate/{token}?lang=en", data={"overall": "5"})
    assert expired.status_code == 410 and "expired" in expired.get_data(as_text=True)
    with app_with_transport.app_context(), database.connection_context():
        assert not SurveyAnswer.select().exists()


def test_public_opt_out_is_respected_everywhere(app_with_transport, transport, client, auth, make_beneficiary):
    from portal.satisfaction import service
    from portal.satisfaction.models import SurveyAnswer, SurveyOptOut

    ben, token = _sent_token(app_with_transport, transport, make_beneficiary)
    page = client.post(f"/site/rate/{token}/opt-out?lang=en")
    assert "No more surveys" in page.get_data(as_text=True)
    assert "No more surveys" in client.get(f"/site/rate/{token}?lang=en").get_data(as_text=True)
    client.post(f"/site/rate/{token}", data={"overall": "5"})
    with app_with_transport.app_context(), database.connection_context():
        assert SurveyOptOut.select().where(SurveyOptOut.beneficiary == ben).exists()
        assert service.send_reminders(utcnow() + dt.timedelta(days=4)) == 0
        from portal.models import Beneficiary

        assert service.handle_reply(beneficiary=Beneficiary.get_by_id(ben), channel="pigeon", text="5") is None
        assert not SurveyAnswer.select().exists()
    auth.login("officer")
    refused = client.get(f"/beneficiaries/{ben}/survey?lang=en", follow_redirects=True)
    assert "asked not to be surveyed" in refused.get_data(as_text=True)


def test_public_page_without_the_website_plugin(app_config, make_beneficiary):
    transport = Transport()
    app_config["EXTRA_PLUGINS"] = (transport,)
    app_config["PLUGINS"] = "letters"
    from portal import create_app

    app = create_app(app_config)
    ben = _ben(make_beneficiary)
    with app.app_context(), database.connection_context():
        serve(registered_case(ben))
    token = token_in(transport.sent[-1]["text"])
    page = app.test_client().get(f"/site/rate/{token}")
    assert page.status_code == 200 and 'dir="rtl"' in page.get_data(as_text=True)


# --- the reminder -------------------------------------------------------------------------------------

def test_one_reminder(app_with_transport, transport, make_beneficiary):
    from portal.satisfaction import service

    _sent_token(app_with_transport, transport, make_beneficiary)
    with app_with_transport.app_context(), database.connection_context():
        assert service.send_reminders(utcnow() + dt.timedelta(days=1)) == 0
        assert service.send_reminders(utcnow() + dt.timedelta(days=4)) == 1
        assert service.send_reminders(utcnow() + dt.timedelta(days=5)) == 0
        assert service.send_reminders(utcnow() + dt.timedelta(days=20)) == 0
    assert len(transport.sent) == 2 and transport.sent[1]["context"]["reminder"] is True


# --- replies on a channel -------------------------------------------------------------------------------

def _inbound(ben_id, text="", reply_id=None):
    from portal.messaging import InboundMessage

    return InboundMessage(channel="pigeon", sender="+966500000000", text=text, reply_id=reply_id,
                          beneficiary_ids=(ben_id,))


def test_reply_with_a_digit_then_a_comment(app_with_transport, transport, make_beneficiary):
    from portal.plugins import hook
    from portal.satisfaction.models import SurveyAnswer

    ben, _token = _sent_token(app_with_transport, transport, make_beneficiary)
    with app_with_transport.app_context(), database.connection_context():
        # a score and a comment are handled as private: their words stay with the survey
        assert hook().inbound_message(message=_inbound(ben, "٤")) == "private"
        assert hook().inbound_message(message=_inbound(ben, "الموظف كان متعاونًا")) == "private"
        answer = SurveyAnswer.get()
        assert (answer.overall, answer.via, answer.via_channel) == (4, "reply", "pigeon")
        assert answer.comment == "الموظف كان متعاونًا"
        # the conversation goes on as usual afterwards
        assert hook().inbound_message(message=_inbound(ben, "سؤال آخر")) is None
        assert hook().inbound_message(message=_inbound(ben, "3")) is None
    assert [m["purpose"] for m in transport.sent[1:]] == ["survey_reply", "survey_reply"]


def test_list_reply_for_unknown_or_answered_survey(app_with_transport, transport, make_beneficiary):
    from portal.plugins import hook
    from portal.satisfaction.models import Survey, SurveyAnswer

    ben, _token = _sent_token(app_with_transport, transport, make_beneficiary)
    other = _ben(make_beneficiary)
    with app_with_transport.app_context(), database.connection_context():
        nonce = Survey.get().nonce
        assert hook().inbound_message(message=_inbound(ben, "5", reply_id="survey:nope:5")) == "private"
        assert hook().inbound_message(message=_inbound(other, "5", reply_id=f"survey:{nonce}:5")) == "private"
        assert not SurveyAnswer.select().exists()
        assert hook().inbound_message(message=_inbound(ben, "5", reply_id=f"survey:{nonce}:5")) == "private"
        assert hook().inbound_message(message=_inbound(ben, "4", reply_id=f"survey:{nonce}:4")) == "private"
        assert [a.overall for a in SurveyAnswer.select()] == [5]
    assert "already answered" in transport.sent[-1]["text"] or "تمت الإجابة" in transport.sent[-1]["text"]


# --- the staff form -------------------------------------------------------------------------------------

def test_staff_records_an_answer_given_by_phone(app_with_transport, transport, client, auth, make_beneficiary):
    from portal.satisfaction.models import SurveyAnswer

    ben, _token = _sent_token(app_with_transport, transport, make_beneficiary)
    auth.login("officer")
    form = client.get(f"/beneficiaries/{ben}/survey?lang=en")
    assert form.status_code == 200
    bad = client.post(f"/beneficiaries/{ben}/survey?lang=en", data={"overall": "4", "comment": "ملاحظة"})
    assert bad.status_code == 422 and "ملاحظة" in bad.get_data(as_text=True)
    done = client.post(f"/beneficiaries/{ben}/survey", data={"overall": "4", "via": "call", "recommend": "7"})
    assert done.status_code == 302
    with app_with_transport.app_context(), database.connection_context():
        answer = SurveyAnswer.get()
        assert (answer.overall, answer.via) == (4, "call") and answer.recorded_by_id is not None
    profile = client.get(f"/beneficiaries/{ben}?lang=en")
    assert "answered" in text_of(profile)
    assert 'value="4" checked' not in profile.get_data(as_text=True)
    # a second answer at the desk makes a new survey of the beneficiary's own accord
    again = client.post(f"/beneficiaries/{ben}/survey", data={"overall": "5", "via": "desk"})
    assert again.status_code == 302
    with app_with_transport.app_context(), database.connection_context():
        assert sorted(a.via for a in SurveyAnswer.select()) == ["call", "desk"]


# --- the API ----------------------------------------------------------------------------------------

def test_api_summary(app_with_transport, client, users, make_beneficiary):
    from portal.api import create_token
    from portal.models import User

    with app_with_transport.app_context(), database.connection_context():
        for n, (o, r) in enumerate([(5, 10), (4, 6), (3, 9)]):
            _answer(_survey(_ben(make_beneficiary), f"api:{n}", channel="pigeon"), o, r)
        token = create_token(User.get_by_id(users["manager"]), "t")
        officer = create_token(User.get_by_id(users["officer"]), "t")
    headers = {"Authorization": f"Bearer {token}"}
    today = dt.date.today()
    body = client.get(f"/api/v1/satisfaction/summary?from={today - dt.timedelta(days=2)}&to={today + dt.timedelta(days=1)}",
                      headers=headers).get_json()
    assert body["responses"] == 3 and body["csat"] == 66.7 and body["nps"] == 33.3 and body["response_rate"] == 100.0
    assert body["by_channel"]["pigeon"]["responses"] == 3
    empty = client.get("/api/v1/satisfaction/summary?from=2001-01-01&to=2001-01-31", headers=headers).get_json()
    assert empty == {"responses": 0, "csat": None, "nps": None, "response_rate": None, "by_channel": {}}
    assert client.get("/api/v1/satisfaction/summary?from=01-01-2025", headers=headers).status_code == 422
    assert client.get("/api/v1/satisfaction/summary?channel=nope", headers=headers).status_code == 422
    assert client.get("/api/v1/satisfaction/summary?from=2025-02-01&to=2025-01-01", headers=headers).status_code == 422
    assert client.get("/api/v1/satisfaction/summary", headers={"Authorization": f"Bearer {officer}"}).status_code == 403
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "/satisfaction/summary" in spec["paths"]


# --- the hooks ------------------------------------------------------------------------------------------

def test_hook_service_finished(app_with_transport, transport, make_beneficiary, users):
    from portal.models import Beneficiary, User
    from portal.plugins import hook
    from portal.satisfaction.models import Survey

    ben = _ben(make_beneficiary)
    with app_with_transport.app_context(), database.connection_context():
        hook().service_finished(beneficiary=Beneficiary.get_by_id(ben), kind="inquiry", channel="pigeon", case=None,
                                staff=User.get_by_id(users["officer"]), source="test:inquiry:1")
        survey = Survey.get(Survey.source == "test:inquiry:1")
        assert (survey.kind, survey.channel, survey.staff_id) == ("inquiry", "pigeon", users["officer"])
        hook().service_finished(beneficiary=None, kind="call", channel="pigeon", case=None, staff=None, source="x")
        hook().service_finished(beneficiary=Beneficiary.get_by_id(ben), kind="nonsense", channel="", case=None,
                                staff=None, source="y")
        assert Survey.select().count() == 1


def test_hook_document_extras(app_with_transport, transport, make_beneficiary):
    from portal.models import Beneficiary, Case
    from portal.plugins import hook

    ben = _ben(make_beneficiary)
    with app_with_transport.app_context(), database.connection_context():
        case = registered_case(ben)
        assert [r for r in hook().document_extras(beneficiary=None, case=case, purpose="service_delivery") if r] == []
        serve(case)
        extras = [r for r in hook().document_extras(beneficiary=Beneficiary.get_by_id(ben), case=Case.get_by_id(case.id),
                                                    purpose="service_delivery") if r]
        assert extras and "/site/rate/" in extras[0]["survey_url"] and extras[0]["survey_url"].endswith("?via=qr")


# --- question sets --------------------------------------------------------------------------------------

def test_question_sets_have_versions_and_answers_keep_theirs(app_with_transport, client, auth, make_beneficiary):
    from portal.satisfaction.models import SurveyAnswer, SurveyQuestionSet

    with app_with_transport.app_context(), database.connection_context():
        survey = _survey(_ben(make_beneficiary), "q:1")
    auth.login("admin")
    page = client.get("/admin/satisfaction/questions?lang=en")
    assert page.status_code == 200
    from portal.satisfaction.service import DEFAULT_TEXTS

    form = {f"{k}_{lang}": v[lang] for k, v in DEFAULT_TEXTS.items() for lang in ("ar", "en")}
    form["overall_en"] = "How was it?"
    form["dimensions"] = ["speed", "reach"]
    bad = client.post("/admin/satisfaction/questions?lang=en", data=dict(form, overall_ar=""))
    assert bad.status_code == 422
    assert client.post("/admin/satisfaction/questions", data=form).status_code == 302
    with app_with_transport.app_context(), database.connection_context():
        assert [q.version for q in SurveyQuestionSet.select().order_by(SurveyQuestionSet.version)] == [1, 2]
        _answer(survey, 5)
        assert SurveyAnswer.get().question_set.version == 1


# --- service recovery -----------------------------------------------------------------------------------

@pytest.mark.parametrize("form", [{"overall": "1"}, {"overall": "2", "comment": "لم يرد أحد على اتصالاتي"},
                                  {"overall": "4", "wants_complaint": "1"}])
def test_a_low_score_or_i_want_to_complain_opens_a_complaint(app_with_transport, transport, client,
                                                             make_beneficiary, form):
    from portal.complaints import Complaint
    from portal.satisfaction.models import SurveyAnswer
    from portal.workflow.models import OutreachTask

    ben, token = _sent_token(app_with_transport, transport, make_beneficiary)
    assert client.post(f"/site/rate/{token}", data=form).status_code == 302
    # the same answer sent again opens nothing more
    client.post(f"/site/rate/{token}", data=form)
    thanks = client.get(f"/site/rate/{token}/thanks?lang=en").get_data(as_text=True)
    assert "We are sorry the service fell short" in thanks and 'id="recovery-contact"' in thanks
    with app_with_transport.app_context(), database.connection_context():
        answer = SurveyAnswer.get()
        complaint = Complaint.get_by_id(answer.complaint_id)
        assert Complaint.select().count() == 1
        assert (complaint.beneficiary_id, complaint.kind, complaint.source, complaint.source_id) == (
            ben, "complaint", "survey", str(answer.survey_id))
        assert complaint.contact_requested and complaint.channel == "pigeon" and complaint.case_id is not None
        assert form.get("comment", "") in complaint.text
        assert OutreachTask.get_by_id(complaint.task_id).due == complaint.deadline
        assert complaint.reference in thanks and "Your answer was registered as a complaint." in thanks


def test_a_low_score_given_at_the_desk_opens_a_complaint(app_with_transport, client, auth, make_beneficiary):
    from portal.complaints import Complaint

    ben = _ben(make_beneficiary)
    auth.login("officer")
    assert client.post(f"/beneficiaries/{ben}/survey", data={"overall": "1", "via": "desk"}).status_code == 302
    with app_with_transport.app_context(), database.connection_context():
        complaint = Complaint.get()
        assert complaint.beneficiary_id == ben and complaint.created_by_id is not None


def test_a_good_score_opens_nothing(app_with_transport, transport, client, make_beneficiary):
    from portal.complaints import Complaint

    ben, token = _sent_token(app_with_transport, transport, make_beneficiary)
    client.post(f"/site/rate/{token}", data={"overall": "3"})
    assert "fell short" not in client.get(f"/site/rate/{token}/thanks?lang=en").get_data(as_text=True)
    with app_with_transport.app_context(), database.connection_context():
        assert not Complaint.select().exists()


def test_managers_tag_comments_with_themes(app_with_transport, client, auth, make_beneficiary):
    from portal.complaints.models import FeedbackTheme
    from portal.satisfaction.models import SurveyAnswer

    with app_with_transport.app_context(), database.connection_context():
        theme = FeedbackTheme.create(name_ar="مواعيد الصرف", name_en="Payment dates")
        answer = _answer(_survey(_ben(make_beneficiary), "th:1"), 4, comment="تأخر الصرف")
        _answer(_survey(_ben(make_beneficiary), "th:2"), 5, comment="شكرًا")
    auth.login("manager")
    assert client.post(f"/satisfaction/comments/{answer.id}/theme", data={"theme": "999"}).status_code == 302
    assert client.post(f"/satisfaction/comments/{answer.id}/theme", data={"theme": "x"}).status_code == 302
    assert client.post("/satisfaction/comments/99999/theme", data={"theme": str(theme.id)}).status_code == 404
    with app_with_transport.app_context(), database.connection_context():
        assert SurveyAnswer.get_by_id(answer.id).theme_id is None
    client.post(f"/satisfaction/comments/{answer.id}/theme", data={"theme": str(theme.id)})
    with app_with_transport.app_context(), database.connection_context():
        assert SurveyAnswer.get_by_id(answer.id).theme_id == theme.id
    text = text_of(client.get("/satisfaction/?lang=en"))
    assert text.index("Payment dates (1)") < text.index("تأخر الصرف") < text.index("No theme yet (1)") < text.index("شكرًا")
    auth.logout()
    auth.login("officer")
    assert client.post(f"/satisfaction/comments/{answer.id}/theme", data={"theme": ""}).status_code == 403


def test_self_service_rating_link_is_the_newest_open_survey(app_with_transport, make_beneficiary):
    """The self-service menu's "rate our last service": offered only with an open survey, never for an answered or
    expired one or after an opt-out; the link is that survey's page."""
    from portal.models import Beneficiary
    from portal.plugins import hook
    from portal.satisfaction import service
    from portal.satisfaction.models import Survey

    ben_id = _ben(make_beneficiary)
    with app_with_transport.test_request_context(), database.connection_context():
        ben = Beneficiary.get_by_id(ben_id)
        ask = hook().self_service_link
        assert ask(beneficiary=ben, purpose="rating", issue=False) is None  # no survey yet
        older = _survey(ben_id, "call:1")
        newer = _survey(ben_id, "call:2")
        assert ask(beneficiary=ben, purpose="rating", issue=False) == {"url": "", "expires_at": None}
        link = ask(beneficiary=ben, purpose="rating", issue=True)
        assert link["url"] == service.link_for(newer) and link["url"].startswith("http")
        _answer(newer, 5)
        assert ask(beneficiary=ben, purpose="rating", issue=True)["url"] == service.link_for(older)
        Survey.update(expires_at=utcnow() - dt.timedelta(minutes=1)).where(Survey.id == older.id).execute()
        assert ask(beneficiary=ben, purpose="rating", issue=True) is None  # answered or expired: nothing to rate
        third = _survey(ben_id, "call:3")
        assert ask(beneficiary=ben, purpose="rating", issue=True)["url"] == service.link_for(third)
        service.opt_out(ben, via="staff")
        assert ask(beneficiary=ben, purpose="rating", issue=False) is None  # opted out: not offered
