"""Helpers that build HTML by hand escape what they are given (the places bandit's B704 points at)."""
from markupsafe import Markup

from portal.templating import phone_filter


def test_phone_filter_formats_saudi_numbers():
    assert phone_filter("+966501234567") == Markup('<bdi dir="ltr">050 123 4567</bdi>')


def test_phone_filter_escapes_a_stored_value_that_is_not_a_number():
    # 13 characters starting with +966 used to be sliced into the markup unescaped.
    html = str(phone_filter("+966<b>x</b>1"))
    assert "<b>" not in html and "&lt;b&gt;" in html
    assert "<script>" not in str(phone_filter("<script>alert(1)</script>"))


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
