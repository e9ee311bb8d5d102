"""A delegate's field visit with the network down, on a 360 px phone: the form is kept on the phone and shown
as waiting, and it arrives once when the network returns (the service worker and the outbox of
plugins/delegates/static/)."""
from __future__ import annotations

import pytest
from browser.conftest import sign_in
from browser.test_axe import axe_source, serious  # noqa: F401  (axe_source is a fixture)
from playwright.sync_api import Page, expect

from portal.db import database

pytestmark = [pytest.mark.browser, pytest.mark.needs_plugins("delegates")]


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # Service workers allowed (Playwright's default); 127.0.0.1 is a secure context for them in Chromium. axe is
    # injected as a script, which the pages' content security policy would refuse.
    return {**browser_context_args, "viewport": {"width": 360, "height": 740}, "service_workers": "allow",
            "bypass_csp": True}


def _visits(live_app):
    from plugins.delegates.models import Activity, Visit

    with live_app.app_context(), database.connection_context():
        return list(Activity.select(Activity, Visit).join(Visit, on=(Visit.activity == Activity.id), attr="visit"))


def test_a_visit_saved_offline_arrives_once(page: Page, live_server, live_app, users, make_beneficiary, screenshots):
    from plugins.delegates import service as svc
    from portal.dates import saudi_today
    from portal.models import Beneficiary, User

    ben = make_beneficiary(branch="TAIF", first_name="منيرة", family_name="الثبيتي", district="الشفا")
    with live_app.app_context(), database.connection_context():
        svc.add_plan(delegate=User.get_by_id(users["delegate"]), beneficiary=Beneficiary.get_by_id(ben),
                     day=saudi_today(), note="", actor=None)

    sign_in(page, live_server, "delegate")
    page.goto(live_server("/delegates/"))
    expect(page.locator(".route .stop")).to_have_count(1)
    page.locator(".route .stop a.button").click()
    page.wait_for_url(f"**/delegates/beneficiaries/{ben}/visit?plan=*")
    expect(page.locator("[data-queue-count]")).to_have_text("0")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")  # awaited: the worker controls the scope

    page.context.set_offline(True)
    expect(page.locator("[data-net-state]")).to_have_text("لا يوجد اتصال: ما تحفظه يبقى على هذا الجوال ويُرسل عند عودة الشبكة.")
    page.fill("#f-household_seen", "الأم وثلاث بنات")
    page.fill("#f-needs", "مكيف الغرفة معطل")
    page.locator("#visit-form button[type=submit]").click()

    queue = page.locator("#offline-queue")
    expect(queue.locator("[data-queue-count]")).to_have_text("1")
    expect(queue.locator(".queued")).to_have_count(1)
    expect(queue.locator(".queued").first).to_contain_text("زيارة: منيرة")
    expect(queue.locator("[data-queue-note]")).to_have_text("حُفظ على هذا الجوال، وسيُرسل عند عودة الشبكة.")
    expect(page.locator("#f-needs")).to_have_value("")  # the form is ready for the next visit
    page.screenshot(path=str(screenshots / "delegates-offline-waiting.png"), full_page=True)
    assert _visits(live_app) == []

    page.context.set_offline(False)
    expect(queue.locator("[data-queue-count]")).to_have_text("0")
    expect(queue.locator("[data-queue-note]")).to_contain_text("أُرسل: زيارة: منيرة")
    visits = _visits(live_app)
    assert len(visits) == 1 and visits[0].visit.needs == "مكيف الغرفة معطل"
    assert visits[0].beneficiary_id == ben and visits[0].visit.plan_id is not None

    # the outbox sent once: sending again finds nothing waiting, and the route shows the visit done
    page.locator("[data-queue-send]").click()
    expect(queue.locator("[data-queue-count]")).to_have_text("0")
    page.goto(live_server("/delegates/"))
    expect(page.locator(".route .stop.done")).to_have_count(1)
    expect(page.locator("[data-queue-count]")).to_have_text("0")
    page.screenshot(path=str(screenshots / "delegates-route-after.png"), full_page=True)
    assert len(_visits(live_app)) == 1


def test_the_phone_screens_have_no_serious_accessibility_violations(page: Page, live_server, users, make_beneficiary,
                                                                    axe_source):  # noqa: F811
    ben = make_beneficiary(branch="TAIF")
    sign_in(page, live_server, "delegate")
    problems = []
    for path in ("/delegates/", f"/delegates/beneficiaries/{ben}/visit", f"/delegates/beneficiaries/{ben}/contact",
                 f"/delegates/beneficiaries/{ben}/request", "/delegates/plan", "/delegates/reports"):
        response = page.goto(live_server(path))
        assert response.status == 200, path
        expect(page.locator("html")).to_have_attribute("dir", "rtl")
        if "/visit" in path or path == "/delegates/":
            expect(page.locator("[data-queue-count]")).to_have_text("0")  # the outbox panel drawn
        problems += serious(page, axe_source)
    assert not problems, "\n".join(problems)


def test_the_service_worker_keeps_a_form_the_browser_sent_offline(page: Page, live_server, live_app, users,
                                                                  make_beneficiary):
    """A form sent by the browser itself (as without the page's script) while the network is down: the service
    worker keeps it in the outbox and opens the route it kept; it is sent once when the network returns."""
    ben = make_beneficiary(branch="TAIF", first_name="هيلة", family_name="العصيمي")
    sign_in(page, live_server, "delegate")
    page.goto(live_server("/delegates/"))
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    # the route and the form opened once through the worker, which keeps them
    page.goto(live_server("/delegates/"))
    expect(page.locator("[data-queue-count]")).to_have_text("0")
    page.goto(live_server(f"/delegates/beneficiaries/{ben}/contact"))
    expect(page.locator("[data-queue-count]")).to_have_text("0")
    assert page.evaluate("navigator.serviceWorker.controller !== null")

    page.context.set_offline(True)
    page.fill("#f-summary", "اتصلت ولم ترد")
    with page.expect_navigation():
        page.evaluate("document.getElementById('contact-form').submit()")  # no submit event: the browser sends it
    expect(page.locator("h1")).to_have_text("زيارات اليوم")
    expect(page.locator("[data-queue-count]")).to_have_text("1")

    page.context.set_offline(False)
    expect(page.locator("[data-queue-count]")).to_have_text("0")
    from plugins.delegates.models import Activity
    from portal.models import TimelineEntry

    with live_app.app_context(), database.connection_context():
        assert [a.kind for a in Activity.select()] == ["contact"]
        assert [e.summary for e in TimelineEntry.select()] == ["اتصلت ولم ترد"]
