"""What rendering keeps per request (the template globals, the translations) follows the language of the
moment: a message rendered in English inside an Arabic page comes out in English, and back."""
from __future__ import annotations

from flask import render_template_string
from flask_babel import force_locale

from portal.plugins import get_pm


def test_templates_follow_a_forced_language_inside_one_request(app):
    template = "{{ _('Beneficiaries') }}|{{ lang }}"
    with app.test_request_context("/?lang=ar"):
        arabic = render_template_string(template)
        with force_locale("en"):
            english = render_template_string(template)
        again = render_template_string(template)
    assert arabic == again and arabic.endswith("|ar")
    assert english == "Beneficiaries|en"
    assert arabic.split("|")[0] != "Beneficiaries"


def test_menu_links_are_asked_once_per_request_whatever_the_number_of_templates(app, users, monkeypatch):
    from portal.models import User

    from flask_login import login_user

    from portal.db import database

    calls = []
    with app.test_request_context("/"):
        hook = get_pm().hook
        original = hook.menu_links

        def counting(**kwargs):
            calls.append(1)
            return original(**kwargs)

        monkeypatch.setattr(hook, "menu_links", counting)
        with database.connection_context():
            login_user(User.get_by_id(users["officer"]))
            shown = [render_template_string("{{ menu|length }}") for _ in range(5)]
    assert len(calls) == 1
    assert len(set(shown)) == 1 and int(shown[0]) > 0
