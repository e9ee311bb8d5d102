"""The structured template editor: subject and paragraphs of plain text with merge fields, paragraph buttons
that work without JavaScript, validation that names the problem and keeps the text, versions, and the raw
template behind the admins' "advanced" switch."""
from __future__ import annotations

import html as htmllib
import re

import pytest
from letters_helpers import make_case, pdf_text, text_of  # noqa: F401  (make_case is a fixture)

from plugins.letters import structured
from plugins.letters.builtin import BUILTIN
from portal.db import database


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("lang", "en")


def _template(app, key):
    from plugins.letters import service

    with app.app_context(), database.connection_context():
        template = service.template_by_key(key)
        return template.id, service.current_version(template).number


def _versions(app, template_id):
    from plugins.letters.models import LetterTemplateVersion

    with app.app_context(), database.connection_context():
        return [(v.number, v.subject, v.body) for v in LetterTemplateVersion.select()
                .where(LetterTemplateVersion.template == template_id).order_by(LetterTemplateVersion.number)]


def _paragraphs(response) -> list[str]:
    return [htmllib.unescape(t) for t in
            re.findall(r'<textarea id="f-p\d+" name="p"[^>]*>(.*?)</textarea>', response.get_data(as_text=True), re.S)]


def _structured(template_id=None, **overrides):
    form = {"name_ar": "خطاب شكر", "name_en": "Thank-you letter", "purpose": "general", "active": "1",
            "subject_text": "شكر وتقدير للطلب {{ case_reference }}",
            "p": ["السلام عليكم ورحمة الله وبركاته، وبعد:", "نشكر {{ beneficiary_name }} على **تعاونه** معنا.",
                  "وتقبلوا خالص التحية والتقدير."], "action": "save"}
    if template_id:
        form["template_id"] = str(template_id)
    form.update(overrides)
    return form


def test_the_structured_form_of_each_builtin_round_trips():
    simple = set()
    for spec in BUILTIN:
        paragraphs = structured.to_paragraphs(spec["body"])
        if paragraphs is None:
            continue
        simple.add(spec["key"])
        body = structured.build_body(paragraphs, {name for name, _filter in structured.FIELD.findall(spec["body"])})
        assert structured.to_paragraphs(body) == paragraphs, spec["key"]
    # conditions ({% if %}) and the minutes' table keep the other three in the advanced editor
    assert simple == {"acknowledgement", "missing_documents", "research_referral", "decision_rejected", "general"}


def test_manager_edits_a_builtin_in_the_structured_editor_and_saves_a_version(app, client, auth, make_case):
    template_id, number = _template(app, "acknowledgement")
    auth.login("manager")
    page = client.get(f"/letters/templates/{template_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    paragraphs = _paragraphs(page)
    assert len(paragraphs) == 5 and "{{ case_reference }}" in paragraphs[1]
    assert 'name="body"' not in html and "mode=advanced" not in html, "the raw template is for admins only"
    assert 'data-insert="case_reference"' in html and "template-editor.js" in html
    paragraphs[2] = "نرجو مراجعة الجمعية قبل {{ expected_reply_date }} ومعكم **الهوية الوطنية**."
    response = client.post(f"/letters/templates/{template_id}", data=_structured(
        template_id, name_ar="إشعار باستلام طلب", name_en="Acknowledgement of receipt", purpose="acknowledgement",
        subject_text="إشعار باستلام طلبكم رقم {{ case_reference }}", p=paragraphs))
    assert response.status_code == 303, text_of(response)[:1500]
    versions = _versions(app, template_id)
    assert [v[0] for v in versions] == [number, number + 1]
    body = versions[-1][2]
    assert "<bdi>{{ expected_reply_date }}</bdi>" in body and "<strong>الهوية الوطنية</strong>" in body
    assert _paragraphs(client.get(f"/letters/templates/{template_id}")) == paragraphs
    # the new version is the one letters are issued from
    make_case(status="submitted")
    auth.login("officer")
    issued = client.post("/letters/issue", data={"template": "acknowledgement", "ref": "1448-000001"})
    assert issued.status_code == 303
    letter_id = issued.headers["Location"].rsplit("/", 1)[-1]
    assert "الهوية الوطنية" in pdf_text(client.get(f"/letters/out/{letter_id}/pdf").data)


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_paragraph_buttons_add_remove_and_reorder_without_saving(app, client, auth, htmx):
    template_id, _number = _template(app, "general")
    before = _versions(app, template_id)
    auth.login("manager")
    headers = {"HX-Request": "true"} if htmx else {}
    base = _structured(template_id, p=["أول", "ثانٍ", "ثالث"])
    moves = [("up:1", ["ثانٍ", "أول", "ثالث"]), ("down:0", ["ثانٍ", "أول", "ثالث"]),
             ("add:0", ["أول", "", "ثانٍ", "ثالث"]), ("add:end", ["أول", "ثانٍ", "ثالث", ""]),
             ("del:2", ["أول", "ثانٍ"]), ("up:0", ["أول", "ثانٍ", "ثالث"]), ("del:9", ["أول", "ثانٍ", "ثالث"])]
    for op, expected in moves:
        response = client.post(f"/letters/templates/{template_id}", data={**base, "op": op}, headers=headers)
        assert response.status_code == 200, op
        assert _paragraphs(response) == expected, op
        assert 'value="خطاب شكر"' in response.get_data(as_text=True), "the rest of the form is kept"
    assert _versions(app, template_id) == before


@pytest.mark.parametrize("text,expected", [
    ("نشكر {{ no_such_field }} على تعاونه.", "unknown merge field “no_such_field”"),
    ("نشكر {{ beneficiary_name على تعاونه.", "is not written as {{ name }}"),
    ("نشكر beneficiary_name }} على تعاونه.", "is not written as {{ name }}"),
    ("{% if amount %}مبلغ{% endif %}", "advanced editor"),
    ("المستندات: {{ beneficiary_name|lines }}", "must be a paragraph of its own"),
])
def test_saving_names_the_problem_and_keeps_the_text(app, client, auth, text, expected):
    template_id, _number = _template(app, "general")
    before = _versions(app, template_id)
    auth.login("manager")
    paragraphs = ["السلام عليكم", text]
    response = client.post(f"/letters/templates/{template_id}", data=_structured(template_id, p=paragraphs))
    assert response.status_code == 422
    message = text_of(response)
    assert "Paragraph 2" in message and expected in message, message[:2000]
    assert _paragraphs(response) == paragraphs
    assert _versions(app, template_id) == before


def test_unknown_field_in_the_subject_is_named(app, client, auth):
    auth.login("manager")
    response = client.post("/letters/templates/new", data=_structured(subject_text="شكر {{ nobody }}"))
    assert response.status_code == 422
    assert "Subject" in text_of(response) and "nobody" in text_of(response)
    assert 'value="شكر {{ nobody }}"' in response.get_data(as_text=True)


def test_manager_creates_a_template_in_the_structured_editor(app, client, auth):
    from plugins.letters.models import LetterTemplate

    auth.login("manager")
    page = client.get("/letters/templates/new")
    assert page.status_code == 200 and len(_paragraphs(page)) == 3
    response = client.post("/letters/templates/new", data=_structured())
    assert response.status_code == 303, text_of(response)[:1500]
    with app.app_context(), database.connection_context():
        template = LetterTemplate.get(LetterTemplate.name_en == "Thank-you letter")
    ((number, subject, body),) = _versions(app, template.id)
    assert subject == "شكر وتقدير للطلب {{ case_reference }}"
    assert "<p>نشكر <bdi>{{ beneficiary_name }}</bdi> على <strong>تعاونه</strong> معنا.</p>" in body


def test_the_structured_preview_draws_the_paragraphs(app, client, auth):
    template_id, _number = _template(app, "general")
    auth.login("manager")
    response = client.post("/letters/templates/preview", data=_structured(template_id))
    assert response.status_code == 200
    assert "data:image/png;base64," in response.get_data(as_text=True)
    bad = client.post("/letters/templates/preview", data=_structured(template_id, p=["{{ nothing_here }}"]))
    assert "nothing_here" in text_of(bad)


def test_the_raw_template_is_behind_the_advanced_switch_for_admins_only(app, client, auth):
    template_id, _number = _template(app, "general")
    auth.login("admin")
    page = client.get(f"/letters/templates/{template_id}")
    assert "mode=advanced" in page.get_data(as_text=True) and 'name="body"' not in page.get_data(as_text=True)
    advanced = client.get(f"/letters/templates/{template_id}?mode=advanced")
    assert 'name="body"' in advanced.get_data(as_text=True) and 'name="extra_fields"' in advanced.get_data(as_text=True)
    auth.login("manager")
    assert 'name="body"' not in client.get(f"/letters/templates/{template_id}?mode=advanced").get_data(as_text=True)
    raw = {"name_ar": "خطاب", "name_en": "Letter", "purpose": "general", "subject": "س", "body": "<p>x</p>",
           "mode": "advanced", "action": "save"}
    assert client.post(f"/letters/templates/{template_id}", data=raw).status_code == 403
    assert client.post("/letters/templates/preview", data=raw).status_code == 403


def test_advanced_editor_rejects_unknown_fields_and_knows_the_minutes_fields(app, client, auth):
    general_id, _n = _template(app, "general")
    minutes_id, minutes_number = _template(app, "committee_minutes")
    auth.login("admin")
    raw = {"name_ar": "خطاب", "name_en": "Letter", "purpose": "general", "subject": "{{ subject_text }}",
           "body": "<p>{{ body_text }} {{ mystery }}</p>{% for x in [1] %}{{ x }}{{ loop.index }}{% endfor %}",
           "extra_fields": "subject_text|الموضوع|Subject|line\nbody_text|نص|Text|text", "mode": "advanced",
           "action": "save"}
    response = client.post(f"/letters/templates/{general_id}", data=raw)
    assert response.status_code == 422 and "Unknown merge field: mystery" in text_of(response)
    assert "{{ mystery }}" in htmllib.unescape(response.get_data(as_text=True))
    spec = next(b for b in BUILTIN if b["key"] == "committee_minutes")
    response = client.post(f"/letters/templates/{minutes_id}", data={
        "name_ar": spec["name_ar"], "name_en": spec["name_en"], "purpose": "committee_minutes", "active": "1",
        "subject": spec["subject"], "body": spec["body"] + "<p>{{ org_name }}</p>", "extra_fields": "",
        "mode": "advanced", "action": "save"})
    assert response.status_code == 303, text_of(response)[:1000]
    assert _versions(app, minutes_id)[-1][0] == minutes_number + 1


def test_a_template_with_conditions_is_read_only_for_managers(app, client, auth):
    template_id, _number = _template(app, "decision_approved")
    auth.login("manager")
    page = client.get(f"/letters/templates/{template_id}")
    assert page.status_code == 200
    assert "an administrator can change it in the advanced editor" in text_of(page)
    assert 'name="p"' not in page.get_data(as_text=True)
    assert client.post(f"/letters/templates/{template_id}", data=_structured(template_id)).status_code == 403
    auth.login("admin")
    page = client.get(f"/letters/templates/{template_id}")
    assert 'name="body"' in page.get_data(as_text=True), "an admin gets the advanced editor for it"


@pytest.mark.parametrize("role", ["officer", "researcher", "committee", "delegate"])
def test_other_roles_may_not_edit_templates(client, auth, role):
    auth.login(role)
    assert client.get("/letters/templates").status_code == 403
    assert client.post("/letters/templates/new", data=_structured()).status_code == 403


def test_the_editor_script_is_served(client):
    response = client.get("/letters/static/template-editor.js")
    assert response.status_code == 200 and b"data-insert" in response.data
