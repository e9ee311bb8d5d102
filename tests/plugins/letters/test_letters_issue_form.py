"""The issue form for every template (with and without a reference, with htmx and without), choosing a
template without JavaScript, the preview before the number is taken, the one-time token against a double
submission, and the "issue a letter" buttons on the file and the request."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from letters_helpers import make_case, pdf_text, text_of  # noqa: F401  (make_case is a fixture)

from plugins.letters.builtin import BUILTIN
from portal.db import database

KEYS = [spec["key"] for spec in BUILTIN]
TOKEN = "tok-abcdefghijklmnop1234"


def _models():
    from plugins.letters.models import Letter, LetterTemplate, LetterTemplateVersion
    from portal.models import Counter

    return Letter, Counter, LetterTemplate, LetterTemplateVersion


def _counts(app):
    Letter, Counter, *_ = _models()
    with app.app_context(), database.connection_context():
        return Letter.select().count(), list(Counter.select(Counter.name, Counter.value)
                                             .where(Counter.name.startswith("letters_out")).tuples())


@pytest.fixture(autouse=True)
def english(client):
    """Messages are checked in English (the msgids); the letters themselves are Arabic in any language."""
    client.set_cookie("lang", "en")


def _field_names(html: str) -> set[str]:
    return set(re.findall(r'name="([a-z_]+)"', html))


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_issue_form_renders_for_every_builtin_template(app, client, auth, make_case, key, htmx):
    from plugins.letters import service

    make_case(status="approved")
    auth.login("officer")
    headers = {"HX-Request": "true"} if htmx else {}
    with app.app_context(), database.connection_context():
        extra = service.parse_extra_fields(service.current_version(service.template_by_key(key)).extra_fields)
    for ref in ("", "1448-000001"):
        response = client.get("/letters/issue", query_string={"template": key, "ref": ref}, headers=headers)
        assert response.status_code == 200, (key, ref, response.get_data(as_text=True)[:2000])
        html = response.get_data(as_text=True)
        assert ("<html" in html) is not htmx, "htmx gets the form alone, a plain request the whole page"
        assert f'<option value="{key}" selected>' in html
        assert {f.key for f in extra} <= _field_names(html), "the template's own fields are in the form"
        if ref:
            assert 'value="1448-000001"' in html and "سارة عبدالله سعد الحربي" in html
        else:
            assert "سارة" not in html


def test_choosing_a_template_without_javascript_shows_its_fields_and_keeps_what_was_typed(app, client, auth,
                                                                                          make_case):
    make_case()
    auth.login("officer")
    response = client.post("/letters/issue", data={"action": "choose", "template": "general", "ref": "1448-000001",
                                                   "recipient": "مالك العقار", "token": TOKEN})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert {"subject_text", "body_text"} <= _field_names(html)
    assert 'value="مالك العقار"' in html and f'value="{TOKEN}"' in html
    assert "Please fill in this field" not in html
    assert _counts(app) == (0, [])


def test_unknown_template_and_unknown_reference_are_named(client, auth):
    auth.login("officer")
    response = client.get("/letters/issue", query_string={"template": "no-such-template", "ref": "1448-999999"})
    assert response.status_code == 200
    text = text_of(response)
    assert "Unknown letter template" in text and "No beneficiary or request has this number" in text
    assert 'value="1448-999999"' in response.get_data(as_text=True)
    response = client.post("/letters/issue", data={"template": "no-such-template", "ref": "1448-999999",
                                                   "token": TOKEN})
    assert response.status_code == 422
    assert 'value="1448-999999"' in response.get_data(as_text=True)


def test_preview_draws_the_letter_without_taking_a_number(app, client, auth, make_case):
    make_case(status="approved", reasons="استيفاء الشروط")
    auth.login("officer")
    form = {"template": "decision_approved", "ref": "1448-000001", "token": TOKEN}
    response = client.post("/letters/issue", data={**form, "action": "preview"})
    assert response.status_code == 200, text_of(response)
    html = response.get_data(as_text=True)
    assert 'class="letter-preview"' in html and "data:image/png;base64," in html
    assert f'value="{TOKEN}"' in html, "the same form (and token) stays for issuing"
    pdf = client.post("/letters/issue/preview.pdf", data=form)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    text = pdf_text(pdf.data)
    assert "معاينة" in text and "لم يصدر" in text
    assert "1448-000001" in text and "الموافقة" in text
    assert "ص-" not in text, "a preview carries no registry number"
    assert _counts(app) == (0, []), "no letter and no counter row: the sequence is untouched"
    # the number taken afterwards is the first one
    issued = client.post("/letters/issue", data=form)
    assert issued.status_code == 303
    Letter, *_ = _models()
    with app.app_context(), database.connection_context():
        assert Letter.get().sequence == 1


def test_preview_after_an_issued_letter_leaves_the_counter_as_it_was(app, client, auth, make_case):
    make_case(status="approved")
    auth.login("officer")
    assert client.post("/letters/issue", data={"template": "decision_approved", "ref": "1448-000001"}).status_code == 303
    before = _counts(app)
    for _ in range(2):
        assert client.post("/letters/issue/preview.pdf",
                           data={"template": "decision_approved", "ref": "1448-000001"}).status_code == 200
    assert _counts(app) == before == (1, [(before[1][0][0], 1)])


def test_preview_with_a_missing_field_says_which_and_keeps_the_form(app, client, auth, make_case):
    make_case(status="approved")
    auth.login("officer")
    response = client.post("/letters/issue", data={"template": "general", "ref": "1448-000001", "action": "preview",
                                                   "subject_text": "دعوة"})
    assert response.status_code == 422
    assert "Please fill in this field" in text_of(response)
    assert 'value="دعوة"' in response.get_data(as_text=True)
    assert _counts(app) == (0, [])


def test_a_template_with_a_broken_placeholder_issues_nothing(app, client, auth, make_case):
    Letter, Counter, LetterTemplate, LetterTemplateVersion = _models()
    make_case(status="approved")
    with app.app_context(), database.connection_context():
        template = LetterTemplate.create(key="broken", name_ar="معطوب", name_en="Broken", purpose="general")
        # written straight to the table, as an old version saved before the editor checked it
        LetterTemplateVersion.create(template=template, number=1, subject="تجربة", body="<p>{{ case_reference </p>")
        unknown = LetterTemplate.create(key="unknown-field", name_ar="حقل مجهول", name_en="Unknown", purpose="general")
        LetterTemplateVersion.create(template=unknown, number=1, subject="تجربة", body="<p>{{ no_such_field }}</p>")
    auth.login("officer")
    for key, expected in (("broken", "template has an error"), ("unknown-field", "no_such_field")):
        for action in ("preview", "issue"):
            response = client.post("/letters/issue", data={"template": key, "ref": "1448-000001", "action": action,
                                                           "token": TOKEN})
            assert response.status_code == 422, (key, action)
            assert expected in text_of(response), (key, action, text_of(response)[:500])
            assert 'value="1448-000001"' in response.get_data(as_text=True)
        pdf = client.post("/letters/issue/preview.pdf", data={"template": key, "ref": "1448-000001"})
        assert pdf.status_code == 422 and pdf.mimetype == "text/html"
    assert _counts(app) == (0, [])


def test_double_submission_issues_one_letter_with_one_number(app, client, auth, make_case):
    make_case(status="approved")
    auth.login("officer")
    form = {"template": "decision_approved", "ref": "1448-000001", "token": TOKEN}
    first = client.post("/letters/issue", data=form)
    second = client.post("/letters/issue", data=form)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    count, counters = _counts(app)
    assert count == 1 and [value for _name, value in counters] == [1]
    page = client.get(second.headers["Location"])
    assert "already sent" in text_of(page)


def test_the_token_is_checked_under_the_numbering_lock_too(app, users, make_case):
    """Two sends that both passed the view's look-up: the service returns the first letter."""
    from plugins.letters import service
    from portal.models import Case, User

    make_case(status="approved")
    with app.test_request_context(), database.connection_context():
        case = Case.get()
        officer = User.get_by_id(users["officer"])
        template = service.template_by_key("decision_approved")
        one = service.issue_letter(template=template, case=case, actor=officer, token=TOKEN)
        two = service.issue_letter(template=template, case=case, actor=officer, token=TOKEN)
        other = service.issue_letter(template=template, case=case, actor=officer, token=TOKEN + "x")
        assert one.id == two.id and other.sequence == 2
    assert _counts(app)[0] == 2


@pytest.mark.parametrize("role", ["researcher", "committee", "delegate"])
def test_roles_that_may_not_issue_get_403(client, auth, make_case, role):
    make_case(status="approved")
    auth.login(role)
    assert client.get("/letters/issue?template=general&ref=1448-000001").status_code == 403
    assert client.post("/letters/issue", data={"template": "general", "ref": "1448-000001"}).status_code == 403
    assert client.post("/letters/issue/preview.pdf", data={"template": "general", "ref": "1448-000001"}).status_code == 403


def _buttons(response):
    html = response.get_data(as_text=True)
    return re.findall(r'<a class="button" href="(/letters/issue\?ref=[^"]+)"', html), html


def test_issue_a_letter_on_the_request_and_the_file(app, client, auth, make_case, make_beneficiary):
    ben_id = make_beneficiary()
    make_case(ben_id=ben_id, status="approved")
    with app.app_context(), database.connection_context():
        from portal.models import Beneficiary

        file_number = Beneficiary.get_by_id(ben_id).file_number
    auth.login("officer")
    links, _html = _buttons(client.get("/cases/1448-000001"))
    assert links == ["/letters/issue?ref=1448-000001"]
    form = client.get(links[0])
    assert form.status_code == 200 and "سارة عبدالله سعد الحربي" in text_of(form)
    links, _html = _buttons(client.get(f"/beneficiaries/{ben_id}"))
    assert links == [f"/letters/issue?ref={file_number}"]
    assert client.get(links[0]).status_code == 200


def test_issue_a_letter_is_not_offered_to_roles_that_may_not_issue(client, auth, make_case):
    make_case(status="approved")
    auth.login("researcher")
    page = client.get("/cases/1448-000001")
    assert page.status_code == 200 and "Issue a letter" not in text_of(page)


def test_withdrawn_request_and_erased_file_show_the_action_disabled_with_the_reason(app, client, auth, make_case):
    from portal.models import Beneficiary, Case

    make_case(status="withdrawn")
    auth.login("officer")
    page = client.get("/cases/1448-000001")
    links, html = _buttons(page)
    assert links == []
    assert re.search(r"<button[^>]*disabled[^>]*>Issue a letter</button>", html)
    assert "The request was withdrawn" in text_of(page)
    response = client.post("/letters/issue", data={"template": "general", "ref": "1448-000001", "subject_text": "س",
                                                   "body_text": "نص"})
    assert response.status_code == 422 and "withdrawn" in text_of(response)
    with app.app_context(), database.connection_context():
        case = Case.get()
        Beneficiary.update(erased_at=dt.datetime(2026, 11, 1)).where(Beneficiary.id == case.beneficiary_id).execute()
        ben_id = case.beneficiary_id
    page = client.get(f"/beneficiaries/{ben_id}")
    links, html = _buttons(page)
    assert links == [] and "file was erased" in text_of(page)
    assert _counts(app) == (0, [])
