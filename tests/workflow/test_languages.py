"""Every workflow screen in Arabic (default, rtl) and in English, with no words left in the other language."""
import datetime as dt

import pytest
from committee_helpers import committee_trio, open_trio_session  # noqa: F401

from portal.db import database
from test_i18n import foreign_words

PAGES = [
    ("case list", "officer", "/cases/"),
    ("case page (draft)", "officer", "/cases/{draft}"),
    ("case page (in research, researcher)", "researcher", "/cases/{research}"),
    ("case page (approved)", "officer", "/cases/{approved}"),
    ("case page (served)", "officer", "/cases/{served}"),
    ("new request", "officer", "/beneficiaries/{ben}/cases/new"),
    ("research queue", "researcher", "/cases/research"),
    ("committee", "committee", "/committee/"),
    ("session", "committee", "/committee/sessions/{session}"),
    ("minutes", "manager", "/committee/sessions/{session}/minutes"),
    ("outreach queue", "officer", "/outreach/"),
    ("library", "officer", "/library/"),
    ("library document", "admin", "/library/{libdoc}"),
    ("request types", "admin", "/admin/request-types"),
    ("request type", "admin", "/admin/request-types/{rtype}"),
    ("declaration text", "admin", "/admin/declaration"),
    ("request form", "officer", "/cases/{approved}/request-form"),
    ("manager dashboard", "manager", "/"),
]


@pytest.fixture
def world(wf, db_snapshot):
    """Requests in every state, a committee session, a follow-up: built once for the module (36 tests read it)."""
    return db_snapshot("world", lambda: _build_world(wf))


def _build_world(wf):
    from portal.models import User
    from portal.workflow import committee, library, outreach
    from portal.workflow.models import LibraryDocument, RequestType

    library.ensure_default_tools()
    ben = wf.ready_beneficiary()
    cases = {s: wf.case(s, ben=ben) for s in ("draft", "in_research", "approved", "served", "awaiting_committee")}
    session = open_trio_session()
    outreach.create_task(beneficiary=ben, kind="follow_up", reason="متابعة", due=dt.date.today())
    # what people typed (see tests/workflow/conftest.py) is data, not UI
    data = [ben.full_name, ben.first_name, ben.family_name, ben.file_number, ben.national_id, "متابعة", "طلب",
            "دراسة الحالة", "أسرة من خمسة أفراد", "شقة مستأجرة", "سلة غذائية", "نص"]
    data += [u.full_name for u in User.select()] + [c.reference for c in cases.values()]
    data += ["food_basket", "financial_aid", "rent", "medical", "education", "ramadan_basket"]
    values = {"draft": cases["draft"].reference, "research": cases["in_research"].reference,
              "approved": cases["approved"].reference, "served": cases["served"].reference, "ben": ben.id,
              "session": session.id, "libdoc": LibraryDocument.select().first().id,
              "rtype": RequestType.get(RequestType.code == "rent").id}
    # names the admin gave in both languages are data, not UI
    for t in RequestType.select():
        data += [t.name_ar, t.name_en, t.description_ar, t.description_en, t.code]
    for d in LibraryDocument.select():
        data += [d.title_ar, d.title_en]
    from portal.workflow.intake import current_declaration_text

    text = current_declaration_text()
    data += [text.text_ar, text.text_en]
    from portal.workflow.models import EligibilityQuestion

    for q in EligibilityQuestion.select():
        data += [q.text_ar, q.text_en]
    database.close()
    return values, data


@pytest.mark.parametrize("page", PAGES, ids=[p[0] for p in PAGES])
@pytest.mark.parametrize("lang", ["ar", "en"])
def test_workflow_pages_in_both_languages(client, world, page, lang):
    values, data = world
    name, role, url = page
    assert client.post("/login", data={"username": role, "password": "correct-horse-battery"}).status_code == 302
    if lang == "en":
        client.post("/language", data={"lang": "en", "next": "/"})
    response = client.get(url.format(**values))
    assert response.status_code == 200, name
    html = response.get_data(as_text=True)
    assert f'<html lang="{lang}" dir="{"rtl" if lang == "ar" else "ltr"}">' in html
    leftovers = foreign_words(html, lang, data)
    assert not leftovers, f"{name} in {lang}: {leftovers}"
