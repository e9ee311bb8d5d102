"""The public site: references tracked in any typed form, tokens isolated on the public pages, the
contact details edited by admins in every footer, icons as SVG, the error summary naming each field,
a favicon on both layouts."""
from __future__ import annotations

import re

import pytest
from bidi_check import bare_tokens
from conftest import PASSWORD, text_of
from test_website_tracking import case_factory, track  # noqa: F401  (fixture)
from website_helpers import app_config, apply_fully, outbox, types  # noqa: F401  (fixtures)

from portal.db import database


def _reversed(ref: str) -> str:
    year, seq = ref.split("-")
    return f"{seq}-{year}"


EASTERN = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


@pytest.mark.parametrize("form", ["reversed", "eastern", "persian reversed", "spaces", "rlm marks", "en dash",
                                  "isolated"])
def test_tracking_accepts_the_reference_in_any_form(app, client, case_factory, form):
    ref = case_factory()
    typed = {
        "reversed": _reversed(ref),
        "eastern": ref.translate(EASTERN),
        "persian reversed": _reversed(ref).translate(PERSIAN),
        "spaces": " " + ref.replace("-", " - ") + " ",
        "rlm marks": "\u200f" + _reversed(ref) + "\u200f",
        "en dash": ref.replace("-", "\u2013"),
        "isolated": "\u2068" + ref + "\u2069",
    }[form]
    r = track(client, typed, "1000000008".translate(EASTERN) if form == "eastern" else "1000000008")
    assert r.status_code == 302 and r.headers["Location"].endswith("/site/track/status"), form
    page = client.get("/site/track/status")
    html = page.get_data(as_text=True)
    assert ref in text_of(page)
    assert bare_tokens(html) == []


@pytest.mark.parametrize("typed", ["hello", "1448-12", "1448000101", "<script>x</script>"])
def test_tracking_refuses_nonsense_in_arabic_keeping_what_was_typed(client, typed):
    r = track(client, typed, "1000000008")
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "يكون رقم الطلب" in text_of(r) or "رقم المرجع" in text_of(r)
    field = re.search(r'<input id="f-reference"[^>]*>', html).group(0)
    from markupsafe import escape

    assert f'value="{escape(typed)}"' in field
    assert "<script>x" not in html
    assert bare_tokens(html) == []


def test_public_pages_isolate_every_token(app, client, types, outbox):
    from plugins.website.models import SiteContact

    with app.app_context(), database.connection_context():
        SiteContact.create(phone="+966 11 234 5678", email="info@example.org", address="الطائف، ص.ب 1448",
                           hours="من الأحد إلى الخميس ٨ ص - ٣ م", map_url="https://maps.example.org/?q=21.27,40.41")
    for url in ("/site/", "/site/contact", "/site/track", "/site/ask", "/site/apply"):
        r = client.get(url)
        assert r.status_code == 200, url
        assert bare_tokens(r.get_data(as_text=True)) == [], url
    assert apply_fully(client, app).status_code == 302
    for url in ("/site/apply/done", "/site/apply/acknowledgement"):
        r = client.get(url)
        assert r.status_code == 200, url
        assert bare_tokens(r.get_data(as_text=True)) == [], url
    # The reference sent by text message is isolated too.
    sent = [m["text"] for m in outbox.sent if re.search(r"\d{4}-\d{6}", m["text"])]
    assert sent and all(re.search("\u2068\\d{4}-\\d{6}\u2069", text) for text in sent)


def test_the_tracking_example_and_date_hints_are_isolated(client):
    html = client.get("/site/track").get_data(as_text=True)
    assert '<bdi dir="ltr">1448-000123</bdi>' in html


# ---------------------------------------------------------------- contact details

def _admin(client):
    assert client.post("/login", data={"username": "admin", "password": PASSWORD}).status_code == 302


def test_admin_edits_the_contact_details_shown_on_every_public_page(app, client, users):
    from portal.models import AuditEvent

    _admin(client)
    assert client.get("/website/contact-details").status_code == 200
    r = client.post("/website/contact-details", data={
        "phone": "٩٢٠٠١٢٣٤٥", "email": "info@example.org", "address": "الطائف، حي الشهداء",
        "hours": "الأحد - الخميس، 8 ص - 3 م", "map_url": "https://maps.example.org/place?id=1"})
    assert r.status_code == 302
    client.post("/logout")
    for url in ("/site/", "/site/faq", "/site/track", "/site/ask", "/site/volunteer", "/site/privacy"):
        html = client.get(url).get_data(as_text=True)
        footer = html[html.index('<footer'):]
        assert 'href="tel:920012345"' in footer and '<bdi dir="ltr">920012345</bdi>' in footer, url
        assert "الطائف، حي الشهداء" in footer and "الأحد - الخميس" in footer
        assert 'href="https://maps.example.org/place?id=1"' in footer
    with app.app_context(), database.connection_context():
        event = AuditEvent.select().where(AuditEvent.object_type == "website_contact").get()
        assert event.action == "update" and "phone" in str(event.details)


def test_contact_details_are_escaped(app, client, users):
    _admin(client)
    r = client.post("/website/contact-details", data={
        "address": "<script>alert(1)</script>", "hours": '"><img src=x onerror=alert(1)>'})
    assert r.status_code == 302
    html = client.get("/site/").get_data(as_text=True)
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html


@pytest.mark.parametrize("field, value, message", [
    ("map_url", "javascript:alert(1)", "https://"),
    ("map_url", "ftp://maps.example.org/x", "https://"),
    ("map_url", "https://maps.example.org/" + "a" * 500, "500"),
    ("map_url", "https://maps example.org", "https://"),
    ("phone", "call us", None),
    ("email", "not-an-address", None),
    ("address", "ع" * 301, "300"),
])
def test_bad_contact_details_are_refused_and_nothing_is_written(app, client, users, field, value, message):
    from plugins.website.models import SiteContact

    _admin(client)
    form = {"phone": "920012345", "address": "الطائف", field: value}
    r = client.post("/website/contact-details", data=form)
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert f'id="e-{field}"' in html and 'aria-invalid="true"' in html
    if message:
        assert message in text_of(r)
    assert re.search(r'[\u0600-\u06ff]', html[html.index(f'id="e-{field}"'):][:200])  # the message is Arabic
    from markupsafe import escape

    assert f'value="{escape(value)}"' in html  # what was typed is kept
    assert field == "phone" or 'value="920012345"' in html
    with app.app_context(), database.connection_context():
        assert SiteContact.select().count() == 0


def test_only_admins_edit_the_contact_details(client, users):
    assert client.post("/login", data={"username": "officer", "password": PASSWORD}).status_code == 302
    assert client.get("/website/contact-details").status_code == 403
    assert client.post("/website/contact-details", data={"phone": "920012345"}).status_code == 403


# ---------------------------------------------------------------- icons, error summary, favicon

def test_channel_icons_are_inline_svg_not_emoji(client):
    html = client.get("/site/").get_data(as_text=True)
    section = html[html.index('<ul class="cards channels">'):]
    section = section[:section.index("</ul>")]
    # one icon per channel card, however many channels are enabled
    assert section.count("<li>") >= 1 and section.count("<svg") == section.count("<li>")
    assert section.count('aria-hidden="true"') == section.count("<svg")
    assert not re.search("[\U0001F300-\U0001FAFF\u2600-\u27BF]", section)


def test_error_summary_names_each_field_and_links_to_it(client):
    r = client.post("/site/ask", data={"kind": "", "name": "", "mobile": "12", "body": ""})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    summary = html[html.index('id="form-errors"'):]
    summary = summary[:summary.index("</div>")]
    for name, label in (("name", "اسمك"), ("mobile", "الجوال"), ("body", "رسالتك")):
        assert re.search(rf'<a href="#f-{name}">حقل «{label}»: ', summary), name
        field = re.search(rf'<(input|textarea|select) id="f-{name}"[^>]*>', html).group(0)
        assert 'aria-invalid="true"' in field and f"e-{name}" in field
        assert re.search(rf'<div class="field[^"]*has-error[^"]*">\s*<label for="f-{name}"', html)


def test_a_favicon_is_served_and_linked_from_both_layouts(client, users):
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200 and b"<svg" in icon.get_data()
    assert 'rel="icon" type="image/svg+xml" href="/static/favicon.svg"' in client.get("/site/").get_data(as_text=True)
    assert 'rel="icon" type="image/svg+xml" href="/static/favicon.svg"' in client.get("/login").get_data(as_text=True)
