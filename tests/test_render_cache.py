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


# --- what the officer pages keep while they render (dates, phone numbers, labels, links, entry bodies) -----------

def test_dates_are_drawn_in_the_language_of_the_moment_though_their_conversion_is_kept(app):
    """The Hijri conversion of a day is kept for the process, keyed by the day and the language: the same day
    reads in Arabic, then English, then Arabic again, both calendars each time, inside one request."""
    import datetime as dt

    from portal.templating import date_filter

    day = dt.date(2026, 11, 20)
    with app.test_request_context("/?lang=ar"):
        arabic = str(date_filter(day))
        with force_locale("en"):
            english = str(date_filter(day))
        again = str(date_filter(dt.datetime(2026, 11, 20, 8, 30), with_time=True))
    assert '<bdi class="hijri">10 جمادى الآخرة 1448 هـ</bdi>' in arabic and "20 نوفمبر 2026 م" in arabic
    assert '<bdi class="hijri">10 Jumada al-Akhirah 1448 AH</bdi>' in english and '<bdi class="greg">20 Nov 2026</bdi>' in english
    assert again.startswith('<time datetime="2026-11-20T11:30:00+03:00"><bdi class="hijri">10 جمادى الآخرة 1448 هـ</bdi>')
    assert again.endswith(' <span class="time"><bdi>11:30</bdi></span></time>')
    # Outside the Umm al-Qura table: the Gregorian date alone, in the language of the request.
    with app.test_request_context("/?lang=en"):
        assert str(date_filter(dt.date(1900, 1, 2))) == '<time datetime="1900-01-02"><bdi class="greg">2 Jan 1900</bdi></time>'


def test_a_kept_phone_number_follows_the_language_and_a_changed_number_is_drawn_anew(app):
    from portal.templating import phone_filter

    with app.test_request_context("/?lang=ar"):
        arabic = str(phone_filter("+966501234567"))
        other = str(phone_filter("+966501234568"))
        with force_locale("en"):
            english = str(phone_filter("+966501234567"))
        plain = str(phone_filter("+966501234567", link=False))
    assert 'aria-label="WhatsApp \u2068050 123 4567\u2069"' in english and ">WhatsApp</a>" in english
    assert "WhatsApp" not in arabic.split('class="wa"')[1].split(">", 1)[1]  # the Arabic link text
    assert arabic.split('class="wa"')[0] == english.split('class="wa"')[0]  # the number itself is the same
    assert "050 123 4568" in other and "050 123 4567" not in other
    assert plain == '<bdi dir="ltr">050 123 4567</bdi>'


def test_label_names_translate_once_per_request_and_language(app):
    """``label_names`` gives what ``labels.label`` draws, in the request's language; a forced language is a new
    key, and a table that reuses a freed table's id is never answered with the old table's labels."""
    from flask import render_template_string

    from portal import labels
    from portal.templating import label_names

    template = "{% set n = label_names(labels.CATEGORY) %}{{ labels.label(n, 'widow') }}|{{ labels.label(labels.CATEGORY, 'widow') }}|{{ labels.label(n, 'unknown') }}|{{ labels.label(n, none) }}"
    with app.test_request_context("/?lang=ar"):
        arabic = render_template_string(template)
        with force_locale("en"):
            english = render_template_string(template)
        for _ in range(3):  # temporary tables, whose ids Python may hand out again
            table = {"a": labels.GENDER["m"]} if _ % 2 == 0 else {"a": labels.GENDER["f"]}
            assert str(label_names(table)["a"]) == str(table["a"])
            del table
    first, second, unknown, empty = arabic.split("|")
    assert first == second and first != "Widow" and unknown == "unknown" and empty == ""
    assert english == "Widow|Widow|unknown|"


def test_channel_labels_follow_the_language_inside_one_request(app):
    from portal.templating import channel_label

    with app.test_request_context("/?lang=ar"):
        arabic = channel_label("phone")
        with force_locale("en"):
            english = channel_label("phone")
        assert channel_label("phone") == arabic
        assert channel_label("no-such-channel") == "no-such-channel"
    assert english == "Phone calls" and arabic != english


def test_url_pattern_builds_what_url_for_builds(app):
    import pytest
    from flask import url_for

    from portal.templating import url_pattern

    with app.test_request_context("/"):
        profile = url_pattern("beneficiaries.profile", "ben_id")
        timeline = url_pattern("timeline.timeline", "ben_id", channel="phone")
        for ben_id in (1, 42, 10**12):
            assert profile(ben_id) == url_for("beneficiaries.profile", ben_id=ben_id)
            assert timeline(ben_id) == url_for("timeline.timeline", ben_id=ben_id, channel="phone")
        with pytest.raises(TypeError):
            profile("1/../admin")


def test_entry_bodies_are_drawn_with_the_request_context_of_their_language(app, users, make_beneficiary, monkeypatch):
    """``render_fragment`` keeps the context processors' values per request and language: a piece drawn under a
    forced language sees that language's globals, and an entry changed since is drawn with its new text."""
    from flask_login import login_user
    from jinja2 import ChoiceLoader, DictLoader

    from portal.db import database
    from portal.models import TimelineEntry, User
    from portal.templating import render_fragment
    from portal.timeline import render_entry

    probe = "{{ lang }}|{{ text_dir }}|{{ current_user.username }}|{{ _('Beneficiaries') }}|{{ entry.summary }}"
    monkeypatch.setattr(app.jinja_env, "loader", ChoiceLoader([DictLoader({"tests/_probe.html": probe}),
                                                               app.jinja_env.loader]))
    ben = make_beneficiary()
    with app.test_request_context("/?lang=ar"), database.connection_context():
        login_user(User.get_by_id(users["officer"]))
        entry = TimelineEntry.create(beneficiary=ben, channel="phone", direction="in", summary="اتصال أول")
        arabic = str(render_fragment("tests/_probe.html", entry=entry))
        with force_locale("en"):
            english = str(render_fragment("tests/_probe.html", entry=entry))
        entry.summary = "اتصال ثان"
        again = str(render_fragment("tests/_probe.html", entry=entry))
        body = str(render_entry(entry))
    assert arabic.startswith("ar|rtl|officer|") and arabic.endswith("|اتصال أول") and "Beneficiaries" not in arabic
    assert english == "en|ltr|officer|Beneficiaries|اتصال أول"
    assert again.startswith("ar|rtl|officer|") and again.endswith("|اتصال ثان")
    assert "اتصال ثان" in body and "اتصال أول" not in body
