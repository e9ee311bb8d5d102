"""Beneficiary registry through the screens: create, validation, duplicates, search, edit conflicts."""
import pytest
from conftest import luhn_id, text_of

from portal.db import database
from portal.models import AuditEvent, Beneficiary


def count(app, model=Beneficiary):
    with app.app_context(), database.connection_context():
        return model.select().count()


def test_create_beneficiary_and_open_profile(client, auth, app, beneficiary_data):
    auth.login()
    response = client.post("/beneficiaries/new", data=beneficiary_data)
    assert response.status_code == 302
    profile = client.get(response.headers["Location"])
    assert profile.status_code == 200
    page = text_of(profile)
    assert "أحمد محمد علي الغامدي" in page
    with app.app_context(), database.connection_context():
        ben = Beneficiary.get()
        assert ben.mobile == "+966501234567"
        assert ben.name_search == "احمد محمد علي الغامدي"
        assert ben.file_number == "000001"
        assert ben.id_kind == "citizen"
        actions = [a.action for a in AuditEvent.select().where(AuditEvent.object_type == "beneficiary")]
        assert actions == ["create", "read"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("national_id", "1000000009", "check digit"),
        ("national_id", "100000000", "exactly 10 digits"),
        ("national_id", "10000000081", "exactly 10 digits"),
        ("national_id", "3000000005", "starts with 1"),
        ("national_id", "10000O0008", "digits only"),
        ("mobile", "+201001234567", "Saudi mobile"),
        ("mobile", "12345", "not valid"),
        ("birth_date", "2999-01-01", "future"),
        ("birth_date", "1447-02-30", "Hijri date does not exist"),
        ("first_name", "", "required"),
        ("family_name", "ب" * 61, "Too long"),
        ("gender", "x", "male or female"),
    ],
)
def test_bad_input_is_refused_and_form_keeps_values(client, auth, app, beneficiary_data, field, value, message):
    auth.login()
    beneficiary_data[field] = value
    response = client.post("/beneficiaries/new?lang=en", data=beneficiary_data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert 'value="الغامدي"' in html or field == "family_name"
    assert count(app) == 0


def test_messages_are_arabic_by_default(client, auth, beneficiary_data):
    auth.login()
    beneficiary_data["national_id"] = "1000000009"
    response = client.post("/beneficiaries/new", data=beneficiary_data)
    assert response.status_code == 422
    assert "رقم الهوية غير صحيح" in text_of(response)


def test_eastern_arabic_digits_are_accepted(client, auth, app, beneficiary_data):
    auth.login()
    beneficiary_data["national_id"] = "١٠٠٠٠٠٠٠٠٨"
    beneficiary_data["mobile"] = "٠٥٠ ١٢٣ ٤٥٦٧"
    assert client.post("/beneficiaries/new", data=beneficiary_data).status_code == 302
    with app.app_context(), database.connection_context():
        ben = Beneficiary.get()
        assert (ben.national_id, ben.mobile) == ("1000000008", "+966501234567")


def test_duplicate_national_id_is_refused_with_a_link(client, auth, app, beneficiary_data, make_beneficiary):
    existing = make_beneficiary(national_id="1000000008")
    auth.login()
    response = client.post("/beneficiaries/new", data=beneficiary_data)
    assert response.status_code == 422
    assert f'href="/beneficiaries/{existing}"' in response.get_data(as_text=True)
    assert count(app) == 1


def test_same_mobile_warns_and_saves_after_confirmation(client, auth, app, beneficiary_data, make_beneficiary):
    make_beneficiary(mobile="0501234567")
    auth.login()
    response = client.post("/beneficiaries/new", data=beneficiary_data)
    assert response.status_code == 200
    assert "same mobile" in client.post("/beneficiaries/new?lang=en", data=beneficiary_data).get_data(as_text=True)
    assert count(app) == 1
    beneficiary_data["confirm_warnings"] = "1"
    assert client.post("/beneficiaries/new", data=beneficiary_data).status_code == 302
    assert count(app) == 2


def test_same_normalised_name_warns(client, auth, beneficiary_data, make_beneficiary):
    make_beneficiary(first_name="احمد", father_name="محمد", grandfather_name="علي", family_name="الغامدى")
    auth.login()
    response = client.post("/beneficiaries/new?lang=en", data=beneficiary_data)
    assert "same name" in response.get_data(as_text=True)


@pytest.mark.parametrize("query", ["احمد", "أحمد", "إحمد", "آحمد", "أَحْمَد", "احـــمد"])
def test_search_finds_every_spelling(client, auth, make_beneficiary, query):
    make_beneficiary(first_name="أحمد", family_name="الزهراني")
    make_beneficiary(first_name="إحمد", family_name="القرشي")
    make_beneficiary(first_name="خالد", family_name="العتيبي")
    auth.login()
    page = text_of(client.get("/beneficiaries/", query_string={"q": query}))
    assert "الزهراني" in page and "القرشي" in page
    assert "العتيبي" not in page


@pytest.mark.parametrize("query", ["0551000001", "+966551000001", "00966551000001", "٠٥٥١٠٠٠٠٠١", "055 100 0001"])
def test_search_by_mobile_in_any_format(client, auth, make_beneficiary, query):
    make_beneficiary(mobile="0551000001", family_name="الشهري")
    make_beneficiary(mobile="0552000002", family_name="المالكي")
    auth.login()
    page = text_of(client.get("/beneficiaries/", query_string={"q": query}))
    assert "الشهري" in page and "المالكي" not in page


def test_search_by_id_file_number_and_compound_name(client, auth, make_beneficiary):
    make_beneficiary(national_id=luhn_id("123456789"), first_name="عبد الله", family_name="الثقفي")
    auth.login()
    assert "الثقفي" in text_of(client.get("/beneficiaries/?q=123456789"))
    assert "الثقفي" in text_of(client.get("/beneficiaries/?q=000001"))
    assert "الثقفي" in text_of(client.get("/beneficiaries/?q=عبدالله"))


@pytest.mark.parametrize("query", ["%", "_", "\\", "'", '"', "%%_", "' OR 1=1 --", "\u202e%", "😀", "ب" * 500])
def test_search_with_special_characters_is_literal(client, auth, make_beneficiary, query):
    make_beneficiary()
    auth.login()
    response = client.get("/beneficiaries/", query_string={"q": query})
    assert response.status_code == 200
    assert "الحربي" not in text_of(response)


def test_search_htmx_returns_only_results_fragment(client, auth, make_beneficiary):
    make_beneficiary(family_name="الدوسري")
    auth.login()
    response = client.get("/beneficiaries/?q=الدوسري", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="results"')
    assert "<html" not in html
    assert "HX-Request" in response.headers["Vary"]


def test_edit_with_stale_version_is_refused(client, auth, app, make_beneficiary):
    ben_id = make_beneficiary()
    auth.login()
    form = client.get(f"/beneficiaries/{ben_id}/edit")
    assert form.status_code == 200
    data = {"first_name": "سارة", "father_name": "عبدالله", "grandfather_name": "سعد", "family_name": "الحربي",
            "national_id": luhn_id("100000001"), "gender": "f", "mobile": "0550000001", "version": "1"}
    first = dict(data, city="جدة")
    second = dict(data, city="الطائف")
    assert client.post(f"/beneficiaries/{ben_id}/edit", data=first).status_code == 302
    response = client.post(f"/beneficiaries/{ben_id}/edit", data=second)
    assert response.status_code == 409
    assert 'value="الطائف"' in response.get_data(as_text=True)
    with app.app_context(), database.connection_context():
        ben = Beneficiary.get_by_id(ben_id)
        assert (ben.city, ben.version) == ("جدة", 2)


def test_delegate_sees_only_own_branch(client, auth, app, make_beneficiary, users):
    inside = make_beneficiary(branch="TAIF", family_name="الطائفي")
    outside = make_beneficiary(branch="MKK", family_name="المكي")
    auth.login("delegate")
    assert client.get(f"/beneficiaries/{inside}").status_code == 200
    assert client.get(f"/beneficiaries/{outside}").status_code == 403
    page = text_of(client.get("/beneficiaries/"))
    assert "الطائفي" in page and "المكي" not in page


@pytest.mark.parametrize("default", ["", "interview"])
def test_preferred_channel_comes_from_the_plugins_and_the_configured_default(app_config, users, beneficiary_data,
                                                                            default):
    """The form lists each registered channel once (no hard-coded option) with "none" first; a file saved
    without a preference takes ``PORTAL_DEFAULT_CHANNEL`` (empty: no preference)."""
    from portal import create_app

    app = create_app(dict(app_config, DEFAULT_CHANNEL=default))
    client = app.test_client()
    client.post("/login", data={"username": "officer", "password": "correct-horse-battery"})
    page = client.get("/beneficiaries/new").get_data(as_text=True)
    select = page[page.index('id="f-preferred_channel"'):]
    select = select[:select.index("</select>")]
    assert select.count('value="email"') == 1 and select.count('value="phone"') == 1
    assert select.index('value=""') < select.index('value="interview"')
    assert (f'value="{default}" selected' if default else 'value="" selected') in select
    assert client.post("/beneficiaries/new", data=beneficiary_data).status_code == 302
    with app.app_context(), database.connection_context():
        assert Beneficiary.get().preferred_channel == default
    profile = client.get("/beneficiaries/1").get_data(as_text=True)
    shown = "المقابلة الشخصية" if default else "— لا يوجد —"
    assert f"<dt>قناة التواصل المفضلة</dt><dd>{shown}</dd>" in profile
