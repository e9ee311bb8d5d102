"""The one-time link to a pre-filled application that the self-service menu sends (``self_service_link``)."""
import datetime as dt

from portal.db import database, utcnow
from portal.models import Beneficiary

from plugins.website.models import ApplicationDraft


def _hook(app):
    return app.extensions["portal_pm"].hook


def _issue(app, ben_id, **request):
    with app.test_request_context("/", base_url="https://sila.example.org"), database.connection_context():
        ben = Beneficiary.get_by_id(ben_id)
        return _hook(app).self_service_link(beneficiary=ben, purpose="apply", issue=True)


def test_the_link_opens_a_prefilled_application_once(app, client, types, make_beneficiary):
    ben = make_beneficiary(mobile="0501234567", category="widow")
    with app.test_request_context("/", base_url="https://sila.example.org"), database.connection_context():
        b = Beneficiary.get_by_id(ben)
        hook = _hook(app)
        assert hook.self_service_link(beneficiary=b, purpose="apply", issue=False) == {"url": "", "expires_at": None}
        assert ApplicationDraft.select().count() == 0  # asking writes nothing
        assert hook.self_service_link(beneficiary=b, purpose="rating", issue=True) is None  # not the website's
    link = _issue(app, ben)
    assert link["url"].startswith("https://sila.example.org/site/apply/link/")
    assert link["expires_at"] > utcnow() + dt.timedelta(hours=47)
    path = link["url"][len("https://sila.example.org"):]
    page = client.get(path)  # a link preview fetching the page uses nothing
    assert page.status_code == 200 and "فتح طلبي" in page.get_data(as_text=True)
    assert client.get(path).status_code == 200
    opened = client.post(path)
    assert opened.status_code == 302 and opened.headers["Location"].endswith("/site/apply/applicant")
    form = client.get("/site/apply/applicant").get_data(as_text=True)
    with app.app_context(), database.connection_context():
        b = Beneficiary.get_by_id(ben)
        draft = ApplicationDraft.get()
        assert draft.national_id == b.national_id and draft.data["applicant"]["first_name"] == b.first_name
        assert draft.data["household"]["category"] == "widow"
    assert f'value="{b.national_id}"' in form and 'value="سارة"' in form
    # used: a second press, or another browser, gets the refusal page, nothing changes
    other = app.test_client()
    again = other.post(path)
    assert again.status_code == 410 and "لم يعد بالإمكان استخدام هذا الرابط" in again.get_data(as_text=True)
    assert other.get(path).status_code == 410


def test_a_forged_or_expired_link_is_refused(app, client, types, make_beneficiary):
    ben = make_beneficiary()
    link = _issue(app, ben)
    path = link["url"][len("https://sila.example.org"):]
    assert client.get(path[:-3] + "abc").status_code == 410
    assert client.post("/site/apply/link/not-a-token").status_code == 410
    app.config["WEBSITE_APPLY_LINK_HOURS"] = 1
    with app.app_context(), database.connection_context():
        ApplicationDraft.update(expires_at=utcnow() - dt.timedelta(minutes=1)).execute()
    assert client.post(path).status_code == 410  # the draft behind it expired


def test_no_link_without_request_types_or_an_address(app, make_beneficiary):
    ben = make_beneficiary()
    with app.test_request_context("/"), database.connection_context():
        b = Beneficiary.get_by_id(ben)
        assert _hook(app).self_service_link(beneficiary=b, purpose="apply", issue=False) is None  # no request types
    with app.app_context(), database.connection_context():
        from portal.workflow.defaults import ensure_default_request_types

        ensure_default_request_types()
        b = Beneficiary.get_by_id(ben)
        # a background job has no request to take the address from, and no PORTAL_WEBSITE_PUBLIC_URL is set
        assert _hook(app).self_service_link(beneficiary=b, purpose="apply", issue=True) is None
        app.config["WEBSITE_PUBLIC_URL"] = "https://sila.example.org/"
        assert _hook(app).self_service_link(beneficiary=b, purpose="apply", issue=True)["url"].startswith(
            "https://sila.example.org/site/apply/link/")
