"""Helpers that build HTML by hand escape what they are given (the places bandit's B704 points at)."""
from markupsafe import Markup

from portal.templating import phone_filter


def test_phone_filter_formats_saudi_numbers():
    assert phone_filter("+966501234567", link=False) == Markup('<bdi dir="ltr">050 123 4567</bdi>')


def test_phone_filter_links_a_number_to_a_call_and_to_whatsapp(app):
    with app.test_request_context("/"):
        html = str(phone_filter("+966501234567"))
        assert '<a href="tel:+966501234567">050 123 4567</a>' in html
        assert 'href="https://wa.me/966501234567"' in html and 'rel="noopener noreferrer"' in html
        assert "\u2068050 123 4567\u2069" in html  # the number inside the link's Arabic label is isolated
        foreign = str(phone_filter("+4930609854180"))
        assert 'href="tel:+4930609854180"' in foreign and 'href="https://wa.me/4930609854180"' in foreign
        extension = str(phone_filter("201"))  # an extension: a call link, no WhatsApp
        assert 'href="tel:201"' in extension and "wa.me" not in extension


def test_phone_filter_escapes_a_stored_value_that_is_not_a_number(app):
    # 13 characters starting with +966 used to be sliced into the markup unescaped.
    with app.test_request_context("/"):
        for link in (True, False):
            html = str(phone_filter("+966<b>x</b>1", link=link))
            assert "<b>" not in html and "&lt;b&gt;" in html and "href" not in html
            assert "<script>" not in str(phone_filter("<script>alert(1)</script>", link=link))


def test_a_timeline_renderer_answering_plain_text_is_escaped(app, make_beneficiary):
    from portal.db import database
    from portal.models import TimelineEntry
    from portal.timeline import render_entry

    ben = make_beneficiary()
    with app.test_request_context("/"), database.connection_context():
        entry = TimelineEntry.create(beneficiary=ben, channel="phone", summary="x")
        pm = app.extensions["portal_pm"]

        class Plain:
            from portal.hookspecs import hookimpl

            @hookimpl(tryfirst=True)
            def render_timeline_entry(self, entry, request):
                return "<img src=x onerror=alert(1)>"

        plugin = Plain()
        pm.register(plugin)
        try:
            html = str(render_entry(entry))
        finally:
            pm.unregister(plugin)
    assert "<img" not in html and "&lt;img" in html
