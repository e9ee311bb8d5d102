"""Template editor (versions, syntax errors with their line, preview) and batches in the job queue."""
from __future__ import annotations

from letters_helpers import make_case, pdf_text, text_of  # noqa: F401  (make_case is a fixture)

from portal.db import database


def _form(**overrides):
    form = {"name_ar": "خطاب شكر", "name_en": "Thank-you letter", "purpose": "general", "active": "1",
            "subject": "شكر وتقدير", "body": "<p>نشكر {{ beneficiary_name }} على تعاونه.</p>", "css": "",
            "extra_fields": "", "action": "save"}
    form.update(overrides)
    return form


def test_syntax_error_shown_with_its_line_and_nothing_saved(app, client, auth):
    from plugins.letters.models import LetterTemplate

    auth.login("admin")
    response = client.post("/letters/templates/new", data=_form(body="<p>سطر</p>\n<p>{{ beneficiary_name }</p>"))
    assert response.status_code == 422
    text = text_of(response)
    assert "2" in text and "body" in text
    assert "{{ beneficiary_name }" in response.get_data(as_text=True)  # the editor keeps the text
    with app.app_context(), database.connection_context():
        assert LetterTemplate.select().where(LetterTemplate.builtin == False).count() == 0  # noqa: E712


def test_every_saved_version_is_kept_and_letters_remember_theirs(app, client, auth, make_case):
    from plugins.letters.models import Letter, LetterTemplate, LetterTemplateVersion

    make_case()
    auth.login("admin")
    response = client.post("/letters/templates/new", data=_form())
    assert response.status_code == 303
    with app.app_context(), database.connection_context():
        template = LetterTemplate.get(LetterTemplate.name_en == "Thank-you letter")
    response = client.post("/letters/templates/new", data=_form())
    assert client.post(f"/letters/templates/{template.id}",
                       data=_form(body="<p>نسخة ثانية لـ {{ beneficiary_name }}</p>")).status_code == 303
    assert client.post("/letters/issue", data={"template": template.key, "ref": "1448-000001"}).status_code == 303
    with app.app_context(), database.connection_context():
        versions = list(LetterTemplateVersion.select().where(LetterTemplateVersion.template == template))
        assert [v.number for v in versions] == [1, 2]
        letter = Letter.get()
        assert letter.template_version.number == 2
    assert "نسخة ثانية" in pdf_text(client.get(f"/letters/out/{letter.id}/pdf").data)
    old = client.get(f"/letters/templates/{template.id}?version=1")
    assert "على تعاونه" in old.get_data(as_text=True)


def test_preview_returns_page_image_or_error(client, auth):
    auth.login("admin")
    ok = client.post("/letters/templates/preview", data=_form(), headers={"HX-Request": "true"})
    assert ok.status_code == 200 and "data:image/png;base64," in ok.get_data(as_text=True)
    bad = client.post("/letters/templates/preview", data=_form(body="{% if %}"), headers={"HX-Request": "true"})
    assert "alert" in bad.get_data(as_text=True) and "data:image/png" not in bad.get_data(as_text=True)
    unknown = client.post("/letters/templates/preview", data=_form(body="{{ no_such_field }}"))
    assert "no_such_field" in text_of(unknown)


def test_template_css_cannot_read_local_files(app, client, auth, make_case):
    from plugins.letters.models import Letter

    make_case()
    auth.login("admin")
    css = '@font-face { font-family: X; src: url("file:///etc/passwd"); } body { background: url("http://127.0.0.1:9/x.png"); }'
    assert client.post("/letters/templates/new", data=_form(css=css)).status_code == 303
    from plugins.letters.models import LetterTemplate

    with app.app_context(), database.connection_context():
        key = LetterTemplate.get(LetterTemplate.name_en == "Thank-you letter").key
    assert client.post("/letters/issue", data={"template": key, "ref": "1448-000001"}).status_code == 303
    with app.app_context(), database.connection_context():
        assert Letter.select().count() == 1


def test_batch_issues_letters_with_progress_and_merged_pdf(app, client, auth, make_case):
    from plugins.letters.models import Letter, LetterBatch
    from pypdf import PdfReader
    import io

    for _ in range(3):
        make_case(status="approved")
    make_case(status="rejected", reasons="")  # not matched by the filter
    auth.login("officer")
    bad = client.post("/letters/batches", data={"template": "decision_approved", "case_status": "served"})
    assert bad.status_code == 422
    response = client.post("/letters/batches", data={"template": "decision_approved", "case_status": "approved",
                                                     "skip_issued": "1", "description": "جلسة 12"})
    assert response.status_code == 303
    with app.app_context(), database.connection_context():
        batch = LetterBatch.get()
        assert (batch.status, batch.total, batch.done, batch.failed) == ("done", 3, 3, 0)
        assert Letter.select().where(Letter.batch == batch).count() == 3
    page = client.get(f"/letters/batches/{batch.id}")
    assert "<progress" in page.get_data(as_text=True)
    fragment = client.get(f"/letters/batches/{batch.id}", headers={"HX-Request": "true"})
    assert fragment.get_data(as_text=True).lstrip().startswith('<section class="panel" id="progress"')
    merged = client.get(f"/letters/batches/{batch.id}/pdf")
    assert merged.status_code == 200 and len(PdfReader(io.BytesIO(merged.data)).pages) == 3
    again = client.post("/letters/batches", data={"template": "decision_approved", "case_status": "approved",
                                                  "skip_issued": "1"})
    assert again.status_code == 422  # every approved request already has its letter


def test_batch_reports_letters_it_could_not_issue(app, client, auth, make_case):
    from plugins.letters.models import LetterBatch

    make_case(status="rejected", reasons="الدخل أعلى من الحد")
    make_case(status="rejected", reasons="")
    auth.login("manager")
    client.post("/letters/batches", data={"template": "decision_rejected", "case_status": "rejected"})
    with app.app_context(), database.connection_context():
        batch = LetterBatch.get()
        assert (batch.done, batch.failed, batch.status) == (1, 1, "done")
        assert batch.errors[0]["case"] == "1448-000002" and "decision_reasons" in batch.errors[0]["message"]
