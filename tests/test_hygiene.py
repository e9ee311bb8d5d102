"""Input hygiene at one gate: control characters stripped before views, bounded integers, lengths checked
before the database, IntegrityError as 409, non-ASCII signatures, per-channel entry data and timeline
entries that cannot render. Each test here answered 500 (or trusted markup) before the gate."""
from __future__ import annotations

import pytest
from conftest import PASSWORD, text_of

from portal.db import database
from portal.models import Beneficiary, TimelineEntry, User


@pytest.fixture
def token(app, users):
    from portal.api import create_token

    with app.app_context(), database.connection_context():
        return {"Authorization": f"Bearer {create_token(User.get_by_id(users['officer']), 'tests')}"}


BODY = {"national_id": "1000000008", "first_name": "أحمد", "father_name": "محمد", "family_name": "الغامدي",
        "mobile": "0501234567", "gender": "m"}


# --- control characters ------------------------------------------------------------------------------

def test_strip_controls_keeps_line_breaks_and_arabic():
    from portal.hygiene import clean_value
    from portal.text import clean_text, strip_controls

    assert strip_controls("a\x00b\x07c\x1bd\x7fe\x85f") == "abcdef"
    assert strip_controls("سطر\tأول\r\nسطر\u200cثانٍ") == "سطر\tأول\r\nسطر\u200cثانٍ"  # ZWNJ is a letter-joiner, kept
    assert clean_value({"k\x00": ["x\x00y", 3, {"z": "\x01"}], "n": None}) == {"k": ["xy", 3, {"z": ""}], "n": None}
    assert clean_text(" \x00أحمد\x00 ") == "أحمد"


def test_the_gate_cleans_query_form_and_json_before_views(app):
    from flask import request

    with app.test_request_context("/x?q=a%00b&k%01=v", method="POST", json={"k\x01": ["\x00v", 1, {"n": "\x1b"}]}):
        assert request.args.to_dict() == {"q": "ab", "k": "v"}
        assert request.get_json() == {"k": ["v", 1, {"n": ""}]} and request.json == request.get_json()
    with app.test_request_context("/x", method="POST", data={"note": "سطر\r\nثانٍ\t\x00", "a\x00": "b"}):
        assert request.form.to_dict() == {"note": "سطر\r\nثانٍ\t", "a": "b"}
        assert request.values["a"] == "b"


def test_nul_bytes_in_an_anonymous_form_and_query_are_stripped(client, users):
    """PostgreSQL refuses NUL in text: the sign-in form was a 500 for anyone."""
    response = client.post("/login", data={"username": "off\x00icer", "password": PASSWORD})
    assert response.status_code == 302  # the NUL is gone before the view looks the user up
    assert client.get("/beneficiaries/?q=%00%E2%80%8F%01").status_code == 200
    client.post("/logout")
    refused = client.post("/login?lang=en", data={"username": "\x00", "password": "\x00"})
    assert refused.status_code in (200, 401, 422) and refused.status_code != 500


def test_a_multipart_part_without_a_readable_name_is_dropped_not_a_500(client, users):
    """werkzeug reads a part named by a bare newline as a field named None: the gate drops it, the rest
    of the form reaches the view."""
    body = ("--b\r\nContent-Disposition: form-data; name=\"\n\"\r\n\r\nnull\r\n"
            "--b\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nofficer\r\n"
            f"--b\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\n{PASSWORD}\r\n--b--\r\n")
    response = client.post("/login", data=body.encode(), content_type="multipart/form-data; boundary=b")
    assert response.status_code == 302


def test_nul_bytes_in_json_are_stripped_before_the_api_sees_them(client, app, token):
    response = client.post("/api/v1/beneficiaries", json={**BODY, "first_name": "أح\x00مد", "notes": "سطر\nثانٍ\x00"},
                           headers=token)
    assert response.status_code == 201, response.get_json()
    with app.app_context(), database.connection_context():
        ben = Beneficiary.get()
        assert ben.first_name == "أحمد" and ben.notes == "سطر\nثانٍ"


def test_nul_bytes_in_multipart_fields_and_file_names(client, app, auth, make_beneficiary):
    import io

    from pdf_samples import MINIMAL_PDF

    from portal.models import Document

    ben = make_beneficiary()
    auth.login()
    response = client.post(f"/beneficiaries/{ben}/documents", content_type="multipart/form-data", data={
        "kind": "lease", "number": "L-\x0012", "file": (io.BytesIO(MINIMAL_PDF), "عقد\x00.pdf")})
    assert response.status_code == 302
    with app.app_context(), database.connection_context():
        doc = Document.get()
        assert doc.number == "L-12" and doc.file_name == "عقد.pdf"


# --- integers --------------------------------------------------------------------------------------

def test_parse_int_bounds():
    from portal.hygiene import DB_INT_MAX, parse_int

    assert parse_int("١٢") == 12 and parse_int(" 7 ") == 7
    assert parse_int("9" * 40) is None and parse_int(str(DB_INT_MAX + 1)) is None
    assert parse_int("x", 5) == 5 and parse_int(None) is None and parse_int("-3") is None
    assert parse_int("٣", minimum=1, maximum=2) is None


def test_huge_integers_in_urls_and_queries_never_reach_the_database(client, auth, users, make_beneficiary):
    ben = make_beneficiary()
    auth.login("officer")
    assert client.get("/beneficiaries/99999999999999999999999").status_code == 404
    assert client.get(f"/beneficiaries/{2**31}").status_code == 404
    huge_cursor = "2026-01-01T00:00:00_" + "9" * 30
    assert client.get(f"/beneficiaries/{ben}/timeline?before={huge_cursor}").status_code == 200
    # the registries are keyset-paged: a cursor they did not write (huge, not a number, too long) is ignored
    assert client.get("/letters/?after=99999999999999999999999999").status_code == 200
    assert client.get("/letters/incoming?after=" + "9" * 5000).status_code == 200
    assert client.get("/letters/?after=abc").status_code == 200
    assert client.get("/phone/?before=" + "9" * 40).status_code == 200


def test_huge_integers_in_json_are_refused_not_500(client, token):
    response = client.post("/api/v1/beneficiaries", json={**BODY, "branch": "9" * 30}, headers=token)
    assert response.status_code == 422 and "branch" in response.get_json()["fields"]
    response = client.post("/api/v1/timeline", json={"beneficiary": 10**30, "channel": "phone", "summary": "x"},
                           headers=token)
    assert response.status_code == 422 and "beneficiary" in response.get_json()["fields"]


# --- lengths ---------------------------------------------------------------------------------------

def test_overlong_preferred_channel_is_422_with_a_message(client, app, token, auth):
    response = client.post("/api/v1/beneficiaries?lang=en", json={**BODY, "preferred_channel": "x" * 31},
                           headers=token)
    assert response.status_code == 422
    assert response.get_json()["fields"]["preferred_channel"] == "Too long: at most 30 characters."
    response = client.post("/api/v1/beneficiaries?lang=en", json={**BODY, "preferred_channel": "<b>"}, headers=token)
    assert response.status_code == 422 and "preferred_channel" in response.get_json()["fields"]
    with app.app_context(), database.connection_context():
        assert Beneficiary.select().count() == 0
    ok = client.post("/api/v1/beneficiaries", json={**BODY, "preferred_channel": "social"}, headers=token)
    assert ok.status_code == 201 and ok.get_json()["preferred_channel"] == "social"


def test_every_save_checks_text_lengths_before_the_database(app, db):
    from portal.db import FieldTooLong
    from portal.models import Branch

    with pytest.raises(FieldTooLong) as refused:
        Branch.create(code="X" * 21, name_ar="فرع")
    assert refused.value.field == "code" and refused.value.limit == 20
    assert Branch.select().count() == 0


def _app_with_failing_routes(app_config):
    """An app with routes that run into the database's refusals the way a race or a missed check does."""
    import peewee

    from portal import create_app
    from portal.db import FieldTooLong

    application = create_app(app_config)

    def integrity():
        from portal.models import Branch

        with database.atomic():
            Branch.create(code="DUP", name_ar="أ")
        with database.atomic():
            Branch.create(code="DUP", name_ar="ب")  # the unique constraint fires, as for two racing requests
        return "unreachable"

    def too_long():
        raise FieldTooLong("Beneficiary", "preferred_channel", 30)

    def data_error():
        raise peewee.DataError("value too long for type character varying(30)")

    for path, view in (("/boom/integrity", integrity), ("/api/v1/boom/integrity", integrity),
                       ("/boom/too-long", too_long), ("/boom/data", data_error)):
        application.add_url_rule(path, endpoint=path, view_func=view, methods=["GET", "POST"])
    return application


def test_integrity_error_is_409_in_the_users_language_and_rolls_back(app_config):
    from portal.models import Branch

    application = _app_with_failing_routes(app_config)
    client = application.test_client()
    page = client.post("/boom/integrity")
    assert page.status_code == 409 and "في اللحظة ذاتها" in text_of(page)
    english = client.post("/boom/integrity?lang=en")
    assert english.status_code == 409 and "at the same moment" in text_of(english)
    fragment = client.post("/boom/integrity?lang=en", headers={"HX-Request": "true"})
    assert fragment.status_code == 409 and fragment.headers["HX-Retarget"] == "#main"
    assert "<html" not in fragment.get_data(as_text=True) and "at the same moment" in fragment.get_data(as_text=True)
    api = client.post("/api/v1/boom/integrity?lang=en")
    assert api.status_code == 409 and "at the same moment" in api.get_json()["error"]
    with application.app_context(), database.connection_context():
        assert [b.name_ar for b in Branch.select().where(Branch.code == "DUP")] == ["أ"]
    too_long = client.post("/boom/too-long?lang=en")
    assert too_long.status_code == 422 and "at most 30 characters" in text_of(too_long)
    assert client.get("/boom/data?lang=en").status_code == 422


def test_racing_applications_with_one_national_id_answer_409_not_500(client, app, token, monkeypatch):
    """The duplicate check passes for both requests; the second insert meets the unique index."""
    from portal import beneficiaries_service as service

    original = service.create

    def racing_create(values, actor=None):
        original({**values, "mobile": "+966551112233"}, actor=actor)  # the other request wins the race
        return original(values, actor=actor)

    monkeypatch.setattr(service, "create", racing_create)
    response = client.post("/api/v1/beneficiaries?lang=en", json=BODY, headers=token)
    assert response.status_code == 409 and "at the same moment" in response.get_json()["error"]
    monkeypatch.setattr(service, "create", original)
    with app.app_context(), database.connection_context():
        assert Beneficiary.select().count() == 1  # the winner only; the connection still works
    again = client.post("/api/v1/beneficiaries", json=BODY, headers=token)
    assert again.status_code == 409 and again.get_json()["existing"]["file_number"]


# --- signatures ------------------------------------------------------------------------------------

def test_non_ascii_webhook_signature_is_a_bad_signature(client, app):
    app.config["SOCIAL_APP_SECRET"] = "s3cret"
    body = b'{"object": "whatsapp_business_account", "entry": []}'
    for header in ("sha256=é" + "0" * 63, "sha256=" + "٠" * 64, "sha256=\u00ff"):
        response = client.post("/webhooks/meta", data=body, content_type="application/json",
                               headers={"X-Hub-Signature-256": header.encode("utf-8").decode("latin-1")})
        assert response.status_code == 403
    from plugins.social.processing import sign, signature_ok

    assert signature_ok(body, sign(body, "s3cret"), "s3cret")
    assert not signature_ok(body, "sha256=مرحبا", "s3cret")


def test_non_ascii_letter_verification_code_is_not_found(client):
    assert client.get("/letters/verify/1448-000001?c=مرحبا").status_code == 404


# --- entry data per channel, and entries that cannot render -----------------------------------------

ODD_SOCIAL = [
    {"kind": "location", "location": "not an object"},
    {"media": "x"},
    {"kind": "location", "location": {"lat": "north", "lon": "east"}},
    {"platform": ["whatsapp"]},
]


@pytest.mark.parametrize("data", ODD_SOCIAL)
def test_api_refuses_social_data_the_renderer_would_not_understand(client, app, token, make_beneficiary, data):
    ben = make_beneficiary()
    response = client.post("/api/v1/timeline?lang=en", json={"beneficiary": ben, "channel": "social",
                                                              "summary": "رسالة", "data": data}, headers=token)
    assert response.status_code == 422 and response.get_json()["fields"]["data"]
    with app.app_context(), database.connection_context():
        assert TimelineEntry.select().where(TimelineEntry.channel == "social").count() == 0


@pytest.mark.parametrize(("channel", "data"), [
    ("phone", {"source": "cti", "duration": "long"}),
    ("letters", {"letter": "out", "id": "x"}),
    ("website", {"kind": "inquiry"}),
    ("phone", {"kind": "case_status", "new": 5}),
])
def test_api_refuses_data_other_channels_write_themselves(client, token, make_beneficiary, channel, data):
    ben = make_beneficiary()
    response = client.post("/api/v1/timeline", json={"beneficiary": ben, "channel": channel, "summary": "x",
                                                     "data": data}, headers=token)
    assert response.status_code == 422 and response.get_json()["fields"]["data"]


def test_api_accepts_a_manual_social_contact_and_oversized_data_is_refused(client, token, make_beneficiary):
    ben = make_beneficiary()
    ok = client.post("/api/v1/timeline", json={"beneficiary": ben, "channel": "social", "summary": "منشور",
                                               "data": {"platform": "x", "kind": "manual",
                                                        "url": "https://x.com/a/status/1"}}, headers=token)
    assert ok.status_code == 201
    big = client.post("/api/v1/timeline", json={"beneficiary": ben, "channel": "phone", "summary": "x",
                                                "data": {"topic": "x" * 17_000}}, headers=token)
    assert big.status_code == 422


def test_an_entry_that_cannot_render_shows_a_placeholder_on_profile_and_dashboard(client, app, auth, make_beneficiary,
                                                                                caplog):
    """Data written before the API checked it (or by a buggy plugin) must not take the pages down."""
    ben = make_beneficiary()
    with app.app_context(), database.connection_context():
        for data in ODD_SOCIAL:
            TimelineEntry.create(beneficiary=ben, channel="social", summary="ملخص <b>سليم</b>", data=data,
                                 follow_up_due=__import__("datetime").date.today())
    auth.login("officer")
    profile = client.get(f"/beneficiaries/{ben}?lang=en")
    assert profile.status_code == 200
    html = profile.get_data(as_text=True)
    assert "This entry cannot be shown in full" in html and "ملخص &lt;b&gt;سليم&lt;/b&gt;" in html
    assert client.get(f"/beneficiaries/{ben}/timeline").status_code == 200
    assert client.get("/?lang=en").status_code == 200
    assert "could not be rendered" in caplog.text


def test_tracking_proof_in_other_scripts_digits_is_not_a_500(client, app, make_beneficiary):
    """``str.isdigit`` accepts digits of every script; ``compare_digest`` only ASCII."""
    from portal.models import Case

    ben = make_beneficiary()
    with app.app_context(), database.connection_context():
        Case.create(reference="1448-000001", beneficiary=ben, request_type="general", status="submitted")
    for proof in ("𝟏𝟐𝟑𝟒", "१२३४", "１２３４５６７８９０"):
        response = client.post("/site/track", data={"reference": "1448-000001", "proof": proof})
        assert response.status_code in (404, 422), proof


def test_every_typed_beneficiary_text_has_a_length_limit_within_its_column():
    from peewee import CharField

    from portal.beneficiaries_service import FIELDS, MAX_LENGTHS
    from portal.models import Beneficiary

    checked_otherwise = {"national_id", "mobile", "gender", "category", "status"}  # validators or fixed choices
    for key in FIELDS:
        field = Beneficiary._meta.fields.get(key)
        if isinstance(field, CharField) and key not in checked_otherwise:
            assert key in MAX_LENGTHS and MAX_LENGTHS[key] <= field.max_length, key
