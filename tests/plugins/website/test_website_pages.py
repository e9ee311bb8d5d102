"""Public pages (Arabic by default, complete English), the published policy and privacy notice,
admin-edited content and FAQ, the safe page markup."""
from __future__ import annotations

import pytest
from conftest import text_of
from website_helpers import app_config, types  # noqa: F401

from portal.db import database

PAGES = ["/site/", "/site/how-to-apply", "/site/contact", "/site/privacy", "/site/policy", "/site/faq",
         "/site/ask", "/site/volunteer", "/site/track", "/site/apply", "/site/apply/resume"]


@pytest.mark.parametrize("url", PAGES)
def test_every_public_page_in_arabic_and_english(app, client, types, url):
    ar = client.get(url)
    assert ar.status_code == 200
    html = ar.get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in html and 'name="viewport"' in html
    assert 'class="menu"' not in html  # no staff menu on the public site
    en = client.get(url + ("&" if "?" in url else "?") + "lang=en")
    html_en = en.get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in html_en
    assert "Track a request" in html_en and "Privacy notice" in html_en


def test_the_policy_is_published_in_both_languages(app, client):
    ar = text_of(client.get("/site/policy"))
    assert "سياسة تنظيم العلاقة مع المستفيدين" in ar
    assert "خلال مدة لا تقل عن أسبوعين" in ar and "مناديب المكاتب الفرعية" in ar
    en = text_of(client.get("/site/policy?lang=en"))
    assert "Channels used to communicate with beneficiaries" in en


def test_privacy_notice_names_the_law_and_the_rights(app, client):
    ar = text_of(client.get("/site/privacy"))
    assert "نظام حماية البيانات الشخصية" in ar
    for right in ("الحق في العلم", "الحق في الوصول", "تصحيح", "إتلاف", "الرجوع عن موافقتك"):
        assert right in ar
    en = text_of(client.get("/site/privacy?lang=en"))
    assert "Personal Data Protection Law" in en and "How to exercise your rights" in en


def test_how_to_apply_lists_each_types_documents(app, client, types):
    text = text_of(client.get("/site/how-to-apply"))
    assert "مساعدة إيجار" in text and ("عقد الإيجار" in text or "Lease contract" in text)


def test_home_lists_the_channels_and_contact_settings(app, client):
    app.config["WEBSITE_PHONE"] = "920000000"
    text = text_of(client.get("/site/"))
    assert "الموقع الإلكتروني" in text and "قدّم طلبك وتابعه واستفسر واشتكِ من هنا." in text
    assert "920000000" in text


@pytest.mark.needs_plugins("interview")
def test_home_tells_how_to_reach_each_enabled_channel(app, client):
    text = text_of(client.get("/site/"))
    assert "المقابلة" in text and "زر أحد مكاتبنا خلال أوقات الدوام." in text


def test_admin_edits_a_page_and_restores_it(app, client, auth):
    auth.login("admin")
    r = client.post("/website/pages/contact/ar", data={"title": "", "body": ""})
    assert r.status_code == 422
    body = "سطر أول\n\n## ساعات العمل\n- من الأحد إلى الخميس\n\n<script>alert(1)</script> [الأسئلة](/site/faq)"
    r = client.post("/website/pages/contact/ar", data={"title": "اتصل بنا الآن", "body": body})
    assert r.status_code == 302
    html = client.get("/site/contact").get_data(as_text=True)
    assert "اتصل بنا الآن" in html and "<h2>ساعات العمل</h2>" in html and "<li>من الأحد إلى الخميس</li>" in html
    assert "&lt;script&gt;" in html and "<script>alert" not in html
    assert '<a href="/site/faq">الأسئلة</a>' in html
    assert "Contact us" in text_of(client.get("/site/contact?lang=en"))  # the English page is separate
    client.post("/website/pages/contact/ar", data={"action": "reset"})
    assert "اتصل بنا الآن" not in text_of(client.get("/site/contact"))


def test_page_markup_allows_only_safe_links(app):
    from plugins.website.content import render_markup

    html = str(render_markup("[a](javascript:alert(1)) [b](//evil.example) [c](https://ok.example/x) "
                             "[d](/site/faq\" onclick=\"x)"))
    assert 'href="javascript' not in html and 'href="//evil' not in html
    assert '<a href="https://ok.example/x">c</a>' in html
    assert "onclick=\"x" not in html


def test_unknown_page_and_language_are_404(app, client, auth):
    auth.login("admin")
    assert client.get("/website/pages/secret/ar").status_code == 404
    assert client.get("/website/pages/home/fr").status_code == 404


def test_faq_is_managed_by_admins(app, client, auth):
    from plugins.website.models import FaqItem

    auth.login("admin")
    bad = client.post("/website/faq", data={"question_ar": "", "answer_ar": "", "position": "x"})
    assert bad.status_code == 422
    client.post("/website/faq", data={"question_ar": "متى يصل الرد؟", "answer_ar": "خلال أسبوعين",
                                      "question_en": "When is the reply?", "answer_en": "Within two weeks",
                                      "position": "1", "published": "1"})
    client.post("/website/faq", data={"question_ar": "سؤال مخفي", "answer_ar": "جواب", "position": "2"})
    auth.logout()
    text = text_of(client.get("/site/faq"))
    assert "متى يصل الرد؟" in text and "سؤال مخفي" not in text
    assert "When is the reply?" in text_of(client.get("/site/faq?lang=en"))
    with app.app_context(), database.connection_context():
        item = FaqItem.get(FaqItem.question_ar == "متى يصل الرد؟")
    auth.login("admin")
    client.post(f"/website/faq/{item.id}", data={"question_ar": "متى يصلني الرد؟", "answer_ar": "خلال 14 يوماً",
                                                 "position": "1", "published": "1"})
    assert "متى يصلني الرد؟" in text_of(client.get("/site/faq"))
    client.post(f"/website/faq/{item.id}", data={"action": "delete"})
    with app.app_context(), database.connection_context():
        assert FaqItem.select().count() == 1


def test_officer_cannot_edit_pages(app, client, auth):
    auth.login("officer")
    assert client.post("/website/pages/home/ar", data={"title": "x", "body": "y"}).status_code == 403
    assert client.post("/website/faq", data={"question_ar": "x", "answer_ar": "y"}).status_code == 403


def test_staff_menu_and_dashboard_widget(app, client, auth):
    auth.login("officer")
    html = client.get("/").get_data(as_text=True)
    assert "/website/inbox" in html
    auth.logout()
    auth.login("researcher")
    assert "/website/inbox" not in client.get("/").get_data(as_text=True)


def test_response_times_use_arabic_plural_forms(app, client):
    app.config["COMPLAINT_RESPONSE_DAYS"] = {"inquiry": 2, "complaint": 5, "suggestion": 14, "praise": 10}
    text = text_of(client.get("/site/ask"))
    assert "نرد على الاستفسارات خلال يومين." in text
    assert "نرد على الشكاوى خلال 5 أيام." in text
    assert "نرد على الاقتراحات خلال 14 يوماً." in text
    en = text_of(client.get("/site/ask?lang=en"))
    assert "Complaints are answered within 5 days." in en


def test_each_request_chooses_its_language_even_in_a_shared_app_context(app, client):
    """Flask-Babel caches the locale on the app context; requests made while a test (or a script)
    holds one open must not inherit the previous request's language."""
    with app.app_context():
        assert '<html lang="ar" dir="rtl">' in client.get("/site/faq").get_data(as_text=True)
        english = client.get("/site/faq?lang=en").get_data(as_text=True)
        assert '<html lang="en" dir="ltr">' in english and "Frequently asked questions" in english
        assert '<html lang="ar" dir="rtl">' in client.get("/site/faq").get_data(as_text=True)


def test_public_errors_keep_the_public_layout(app, client, auth):
    r = client.get("/site/apply/nonsense")
    assert r.status_code == 404
    html = r.get_data(as_text=True)
    assert 'class="site"' in html and "هذه الصفحة غير موجودة." in html
    auth.login("officer")
    staff = client.get("/website/inbox/999999")
    assert staff.status_code == 404 and 'class="site"' not in staff.get_data(as_text=True)


def _policy_terms():
    """Arabic terms the English rendering of the policy quotes on purpose (the words users expect)."""
    import re
    from pathlib import Path

    from plugins.website.content import CONTENT_DIR

    text = Path(CONTENT_DIR / "policy.en.md").read_text(encoding="utf-8")
    return re.findall(r"[\u0600-\u06ff][\u0600-\u06ff ]*[\u0600-\u06ff]", text)


@pytest.mark.parametrize("url", PAGES + ["/site/apply/applicant"])
def test_no_words_of_the_other_language(app, client, types, url):
    from test_i18n import foreign_words

    org = [app.config["ORG_NAME_AR"], app.config["ORG_NAME_EN"]]
    assert foreign_words(client.get(url).get_data(as_text=True), "ar", org) == []
    english = client.get(url + "?lang=en").get_data(as_text=True)
    assert foreign_words(english, "en", org + _policy_terms()) == []
