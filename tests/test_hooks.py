"""The plugin contract: each hook has a test here (``test_hook_<name>``) using a throwaway plugin."""
import textwrap

import pytest
from flask import Blueprint
from markupsafe import Markup

from portal import create_app, hookimpl
from portal.db import database, migrate
from portal.models import TimelineEntry


def make_app(app_config, *plugins, **extra):
    config = dict(app_config, EXTRA_PLUGINS=plugins, **extra)
    return create_app(config)


class Carrier:
    """A throwaway plugin that declares a channel of its own."""

    @hookimpl
    def channel_info(self):
        return {"key": "pigeon", "label_ar": "الحمام الزاجل", "label_en": "Carrier pigeon", "icon": "🕊", "order": 5}


def test_hook_channel_info(app_config, users, make_beneficiary):
    app = make_app(app_config, Carrier())
    client = app.test_client()
    ben = make_beneficiary()
    client.post("/login", data={"username": "officer", "password": "correct-horse-battery"})
    page = client.get(f"/beneficiaries/{ben}").get_data(as_text=True)
    assert 'value="pigeon"' in page and "الحمام الزاجل" in page
    response = client.post(f"/beneficiaries/{ben}/contacts", data={"channel": "pigeon", "direction": "in",
                                                                   "summary": "رسالة"})
    assert response.status_code == 302
    with app.app_context(), database.connection_context():
        assert TimelineEntry.get().channel == "pigeon"
    # Without the plugin the channel is refused, nothing is written.
    plain = make_app(app_config)
    client = plain.test_client()
    client.post("/login", data={"username": "officer", "password": "correct-horse-battery"})
    response = client.post(f"/beneficiaries/{ben}/contacts", data={"channel": "pigeon", "summary": "x"})
    assert response.status_code == 422
    with plain.app_context(), database.connection_context():
        assert TimelineEntry.select().count() == 1


def test_hook_register_blueprints(app_config):
    bp = Blueprint("pigeon", __name__, url_prefix="/pigeon")

    @bp.get("/hello")
    def hello():
        return "coo"

    class Plugin:
        @hookimpl
        def register_blueprints(self, app):
            return [bp]

    app = make_app(app_config, Plugin())
    assert app.test_client().get("/pigeon/hello").get_data(as_text=True) == "coo"


def _nest_plugin(tmp_path):
    from peewee import CharField

    from portal.db import BaseModel

    class Nest(BaseModel):
        name = CharField()

    migrations = tmp_path / "pigeon_migrations"
    migrations.mkdir()
    (migrations / "0001_initial.py").write_text(textwrap.dedent('''
        from peewee import CharField, Model

        def up(migrator, db):
            class Nest(Model):
                name = CharField()
                class Meta:
                    database = db
                    table_name = "nest"
            db.create_tables([Nest])
    '''))

    class Plugin:
        @hookimpl
        def register_models(self):
            return [Nest]

        @hookimpl
        def register_migrations(self):
            return [("pigeon", migrations)]

    return Plugin(), Nest


def test_hook_register_models(app_config, tmp_path):
    plugin, nest = _nest_plugin(tmp_path)
    app = make_app(app_config, plugin)
    models = [m for group in app.extensions["portal_pm"].hook.register_models() for m in group]
    assert nest in models


def test_hook_register_migrations(app_config, tmp_path):
    plugin, nest = _nest_plugin(tmp_path)
    app = make_app(app_config, plugin)
    pm = app.extensions["portal_pm"]
    with app.app_context(), database.connection_context():
        try:
            assert migrate(pm) == ["pigeon:0001_initial"]
            assert migrate(pm) == []  # idempotent
            nest.create(name="عش")
            assert nest.select().count() == 1
            assert "schema_migration_pigeon" in database.obj.get_tables()
        finally:
            database.obj.drop_tables([nest])
            database.obj.execute_sql('DROP TABLE IF EXISTS "schema_migration_pigeon"')


def test_hook_render_timeline_entry(app_config, users, make_beneficiary):
    class Plugin:
        @hookimpl
        def render_timeline_entry(self, entry, request):
            if entry.channel != "phone":
                return None
            return Markup('<p class="pigeon-call">') + entry.summary + Markup("</p>")

    app = make_app(app_config, Plugin())
    ben = make_beneficiary()
    with app.app_context(), database.connection_context():
        TimelineEntry.create(beneficiary=ben, channel="phone", summary="<b>مكالمة</b>")
        TimelineEntry.create(beneficiary=ben, channel="letters", summary="خطاب")
    client = app.test_client()
    client.post("/login", data={"username": "officer", "password": "correct-horse-battery"})
    page = client.get(f"/beneficiaries/{ben}").get_data(as_text=True)
    assert '<p class="pigeon-call">&lt;b&gt;مكالمة&lt;/b&gt;</p>' in page
    assert '<p class="summary" dir="auto"><bdi dir="auto">خطاب</bdi></p>' in page  # the core's fallback for other channels


def test_hook_validate_entry_data(app_config, users, make_beneficiary):
    from portal.api import create_token

    class Plugin:
        seen = []

        @hookimpl
        def validate_entry_data(self, channel, data):
            Plugin.seen.append((channel, data))
            if channel != "phone" or "pigeon" not in data:
                return None
            return ["pigeons are not phone calls"]

    app = make_app(app_config, Plugin())
    ben = make_beneficiary()
    with app.app_context(), database.connection_context():
        from portal.models import User

        headers = {"Authorization": f"Bearer {create_token(User.get_by_id(users['officer']))}"}
    client = app.test_client()
    body = {"beneficiary": ben, "channel": "phone", "summary": "اتصال", "data": {"pigeon": "\x00yes"}}
    refused = client.post("/api/v1/timeline", json=body, headers=headers)
    assert refused.status_code == 422 and "pigeons are not phone calls" in refused.get_json()["fields"]["data"]
    assert Plugin.seen[-1] == ("phone", {"pigeon": "yes"})  # asked with the clean data
    accepted = client.post("/api/v1/timeline", json={**body, "data": {"topic": "x"}}, headers=headers)
    assert accepted.status_code == 201
    with app.app_context(), database.connection_context():
        assert TimelineEntry.select().where(TimelineEntry.channel == "phone").count() == 1


def test_hook_menu_links(app_config, users):
    class Plugin:
        @hookimpl
        def menu_links(self, user, request):
            if not user.has_role("manager"):
                return []
            return [{"href": "/pigeon", "label": "الحمام", "active": False}]

    app = make_app(app_config, Plugin())
    client = app.test_client()
    client.post("/login", data={"username": "manager", "password": "correct-horse-battery"})
    assert 'href="/pigeon"' in client.get("/").get_data(as_text=True)
    client.post("/logout")
    client.post("/login", data={"username": "officer", "password": "correct-horse-battery"})
    assert 'href="/pigeon"' not in client.get("/").get_data(as_text=True)


def test_hook_timeline_entry_created(app_config, make_beneficiary):
    from portal.timeline import log_entry

    seen = []

    class Plugin:
        @hookimpl
        def timeline_entry_created(self, entry):
            seen.append((entry.channel, entry.summary))
            if entry.summary == "boom":
                raise RuntimeError("refused")

    app = make_app(app_config, Plugin())
    ben = make_beneficiary()
    with app.app_context(), database.connection_context():
        log_entry(channel="phone", summary="ok", beneficiary=ben)
        with pytest.raises(RuntimeError):
            log_entry(channel="phone", summary="boom", beneficiary=ben)
        assert [e.summary for e in TimelineEntry.select()] == ["ok"]  # the failed one rolled back
    assert seen == [("phone", "ok"), ("phone", "boom")]


def test_hook_send_message(app_config, make_beneficiary):
    sent = []

    class First:
        @hookimpl
        def send_message(self, beneficiary, text, purpose, channel, context):
            return None  # cannot send: let others try

    class Second:
        # An implementation may take a subset of the arguments: hooks grow by adding arguments.
        @hookimpl
        def send_message(self, beneficiary, text, channel):
            sent.append((beneficiary.id, text, channel))
            return {"channel": channel, "id": "m-1"}

    app = make_app(app_config, First(), Second())
    ben = make_beneficiary()
    with app.app_context(), database.connection_context():
        from portal.models import Beneficiary

        b = Beneficiary.get_by_id(ben)
        result = app.extensions["portal_pm"].hook.send_message(
            beneficiary=b, text="رقم طلبك 1448-000001", purpose="case_reference", channel="phone", context={})
    assert result == {"channel": "phone", "id": "m-1"}
    assert sent == [(ben, "رقم طلبك 1448-000001", "phone")]


def test_hook_dashboard_widgets(app_config, users):
    class Plugin:
        @hookimpl
        def dashboard_widgets(self, user, request):
            return [Markup('<section class="panel" id="pigeon-widget">') + user.username + Markup("</section>")]

    app = make_app(app_config, Plugin())
    client = app.test_client()
    client.post("/login", data={"username": "manager", "password": "correct-horse-battery"})
    assert '<section class="panel" id="pigeon-widget">manager</section>' in client.get("/").get_data(as_text=True)


def test_hook_page_notices(app_config, users, make_beneficiary):
    seen = []

    class Plugin:
        @hookimpl
        def page_notices(self, user, request):
            seen.append(request.endpoint)
            if not user.has_role("officer"):
                return None
            return [Markup('<p class="notice-card" id="pigeon-notice">') + user.username + " @ " + str(request.endpoint)
                    + Markup("</p>"), "<b>not markup</b>", ""]

    app = make_app(app_config, Plugin())
    ben = make_beneficiary()
    client = app.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    assert "pigeon-notice" not in login_page and "page-notices" not in login_page and seen == []
    client.post("/login", data={"username": "officer", "password": "correct-horse-battery"})
    for url, endpoint in (("/", "dashboard.index"), (f"/beneficiaries/{ben}", "beneficiaries.profile"),
                          ("/no-such-page", None)):
        page = client.get(url).get_data(as_text=True)
        region = page.split('<main id="main">')[1].split('<div class="page-notices">')[1]
        assert region.startswith(f'<p class="notice-card" id="pigeon-notice">officer @ {endpoint}</p>'
                                 "&lt;b&gt;not markup&lt;/b&gt;"), (url, region[:200])
    # htmx fragments (here a page of the timeline) do not carry the notices, and do not call the hook.
    calls = len(seen)
    fragment = client.get(f"/beneficiaries/{ben}/timeline", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and "pigeon-notice" not in fragment and len(seen) == calls
    # Boosted navigation gets the whole page, notices included.
    boosted = client.get("/", headers={"HX-Request": "true", "HX-Boosted": "true"}).get_data(as_text=True)
    assert 'id="pigeon-notice">officer @ dashboard.index' in boosted
    client.post("/logout")
    client.post("/login", data={"username": "manager", "password": "correct-horse-battery"})
    page = client.get("/").get_data(as_text=True)
    assert "pigeon-notice" not in page and "page-notices" not in page and seen[-1] == "dashboard.index"


def test_hook_register_commands(app_config):
    import click

    class Plugin:
        @hookimpl
        def register_commands(self, cli):
            @cli.command("coo")
            @click.argument("times", type=int)
            def coo(times):
                click.echo("كو" * times)

    app = make_app(app_config, Plugin())
    result = app.test_cli_runner().invoke(args=["coo", "3"])
    assert result.exit_code == 0 and result.output.strip() == "كوكوكو"


def test_hook_openapi_paths(app_config):
    class Plugin:
        @hookimpl
        def openapi_paths(self):
            return {"/pigeons": {"get": {"summary": "List pigeons", "responses": {"200": {"description": "OK"}}}}}

    app = make_app(app_config, Plugin())
    doc = app.test_client().get("/api/v1/openapi.json").get_json()
    assert doc["paths"]["/pigeons"]["get"]["summary"] == "List pigeons"
    assert "/beneficiaries" in doc["paths"]


def test_hook_outreach_task(app_config, users, make_beneficiary):
    """The core's outreach queue implements the hook: a plugin asks for a task (here after a missed
    call), officers see it in the queue; the same request again creates nothing; other
    implementations are called too and may keep their own queue."""
    import datetime as dt

    seen = []

    class Plugin:
        @hookimpl
        def outreach_task(self, beneficiary, kind, due):  # a subset of the arguments
            seen.append((getattr(beneficiary, "id", None), kind, due))
            return None  # keeps no queue of its own

    app = make_app(app_config, Plugin())
    ben = make_beneficiary(first_name="منيرة")
    due = dt.date.today() + dt.timedelta(days=1)
    with app.app_context(), database.connection_context():
        from portal.models import Beneficiary
        from portal.workflow.models import OutreachTask

        b = Beneficiary.get_by_id(ben)
        hook = app.extensions["portal_pm"].hook
        ids = [i for i in hook.outreach_task(beneficiary=b, kind="call_back", reason="مكالمة فائتة", due=due,
                                             source={"channel": "phone", "entry": 42}) if i]
        assert len(ids) == 1
        task = OutreachTask.get_by_id(ids[0])
        assert (task.beneficiary_id, task.kind, task.reason, task.due, task.source, task.status) == (
            ben, "call_back", "مكالمة فائتة", due, {"channel": "phone", "entry": 42}, "open")
        again = hook.outreach_task(beneficiary=b, kind="call_back", reason="مكالمة فائتة", due=due,
                                   source={"channel": "phone", "entry": 42})
        assert [i for i in again if i] == [] and OutreachTask.select().count() == 1
        # a person not matched to a file yet is kept too
        unmatched = [i for i in hook.outreach_task(beneficiary=None, kind="call_back", reason="رقم غير معروف",
                                                   due=due, source={"channel": "phone", "entry": 43}) if i]
        assert len(unmatched) == 1 and OutreachTask.get_by_id(unmatched[0]).beneficiary_id is None
    assert seen[0] == (ben, "call_back", due)
    client = app.test_client()
    client.post("/login", data={"username": "officer", "password": "correct-horse-battery"})
    page = client.get("/outreach/").get_data(as_text=True)
    assert "منيرة" in page and "مكالمة فائتة" in page and "رقم غير معروف" in page


def test_plugins_setting_enables_only_named_plugins(app_config):
    app = make_app(dict(app_config, PLUGINS="phone,letters"))
    with app.app_context():
        from portal.plugins import channels

        assert [c["key"] for c in channels()] == ["phone", "letters"]


def test_unknown_plugin_name_fails_clearly(app_config):
    with pytest.raises(RuntimeError, match="unknown plugins: fax"):
        make_app(dict(app_config, PLUGINS="phone,fax"))


def test_hook_case_document(app_config, users, make_beneficiary):
    """firstresult: a plugin that cannot make the document returns None and the next one answers;
    the public site's download serves what the answering plugin made."""
    import datetime as dt

    asked = []

    class CannotMake:
        @hookimpl(tryfirst=True)
        def case_document(self, case, kind, actor):
            asked.append(("first", case.reference, kind, actor))
            return None

    class Receipts:
        @hookimpl(tryfirst=True)
        def case_document(self, case, kind):  # a subset of the arguments
            if kind != "acknowledgement":
                return None
            return {"filename": f"receipt-{case.reference}.pdf", "pdf": b"%PDF-1.7 receipt", "number": case.reference}

    app = make_app(app_config, Receipts(), CannotMake())
    ben = make_beneficiary()
    with app.app_context(), database.connection_context():
        from portal.models import Beneficiary, Case

        case = Case.create(reference="1448-000777", beneficiary=Beneficiary.get_by_id(ben), request_type="rent",
                           status="submitted", channel="website", submitted_at=dt.datetime(2026, 11, 20, 8, 0))
        hook = app.extensions["portal_pm"].hook
        assert hook.case_document(case=case, kind="acknowledgement", actor=None)["number"] == "1448-000777"
        assert asked == [("first", "1448-000777", "acknowledgement", None)]
        # nobody has a rejection letter for this request (the letters plugin issues those only on decision)
        assert hook.case_document(case=case, kind="decision_rejected", actor=None) is None
    # the website serves it to the applicant whose session holds the request
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["website_done"] = case.id
    r = client.get("/site/apply/acknowledgement.pdf")
    assert r.status_code == 200 and r.data == b"%PDF-1.7 receipt"
    assert r.headers["Content-Disposition"] == "attachment; filename=receipt-1448-000777.pdf"


def test_hook_beneficiary_data(app_config, users, make_beneficiary):
    """A plugin's data and files land in the export ZIP under its name."""
    import io
    import json
    import zipfile

    class Ledger:
        @hookimpl
        def beneficiary_data(self, beneficiary):
            return {"name": "ledger", "data": {"visits": [{"file": beneficiary.file_number, "on": "2026-11-01"}]},
                    "files": [{"name": "../../card.txt", "content": b"visit card"}]}

    class Silent:
        @hookimpl
        def beneficiary_data(self, beneficiary):
            return None

    app = make_app(app_config, Ledger(), Silent())
    ben = make_beneficiary()
    client = app.test_client()
    client.post("/login", data={"username": "admin", "password": "correct-horse-battery"})
    response = client.get(f"/beneficiaries/{ben}/export.zip")
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    doc = json.loads(archive.read("beneficiary.json"))
    assert doc["plugins"]["ledger"]["visits"][0]["on"] == "2026-11-01"
    files = [n for n in archive.namelist() if n.startswith("files/ledger/")]
    assert len(files) == 1 and ".." not in files[0] and archive.read(files[0]) == b"visit card"


def test_hook_anonymise_beneficiary(app_config, users, make_beneficiary, tmp_path):
    """Plugins erase their own data inside the erasure's transaction; their unused files are deleted after it."""
    from portal.models import Beneficiary, Erasure
    from portal.uploads import path_for, store_bytes

    seen = {}

    class Ledger:
        @hookimpl
        def anonymise_beneficiary(self, beneficiary, retain_until, actor):
            seen.update(name=beneficiary.first_name, retain_until=retain_until, actor=actor.username)
            return {"name": "ledger", "anonymised": 3, "kept": ["LEDGER-1"], "delete_files": [seen["sha"]]}

    app = make_app(app_config, Ledger())
    ben = make_beneficiary()
    with app.test_request_context(), database.connection_context():
        seen["sha"] = store_bytes(b"%PDF-1.4 ledger", "l.pdf", "pdf").sha256
        number = Beneficiary.get_by_id(ben).file_number
    client = app.test_client()
    client.post("/login", data={"username": "manager", "password": "correct-horse-battery"})
    assert client.post(f"/beneficiaries/{ben}/erase", data={"confirm": number}).status_code == 302
    assert seen["name"] == "سارة" and seen["retain_until"] is None and seen["actor"] == "manager"
    with app.test_request_context(), database.connection_context():
        summary = Erasure.get().summary
        assert summary["plugins"]["ledger"] == {"anonymised": 3, "kept": ["LEDGER-1"]}
        assert not path_for(seen["sha"]).exists()


class Ledger:
    """Actions and panels on the file and the request, depending on the user and the object."""

    @hookimpl
    def beneficiary_actions(self, beneficiary, user):
        if not user.has_role("officer"):
            return None
        return [{"label": "دفتر الزيارات", "href": f"/ledger/{beneficiary.id}", "order": 5},
                {"label": "تنزيل الدفتر", "href": f"/ledger/{beneficiary.id}.pdf", "boost": False, "order": 1},
                {"label": "", "href": "/dropped"},  # no label: dropped
                {"panel": Markup('<section class="panel" id="ledger-panel"><h2>الدفتر</h2></section>')},
                {"panel": "<b>escaped</b>", "order": 200}]

    @hookimpl
    def case_actions(self, case, user):
        if case.status == "closed":
            return [{"label": "إصدار سند", "href": "#", "disabled": "الطلب مغلق"}]
        return [{"label": "إصدار سند", "href": f"/ledger/case/{case.reference}"},
                {"panel": Markup('<section class="panel" id="case-ledger">') + case.reference + Markup("</section>")}]


def test_hook_beneficiary_actions(app_config, users, make_beneficiary):
    app = make_app(app_config, Ledger())
    ben = make_beneficiary()
    client = app.test_client()
    client.post("/login", data={"username": "officer", "password": "correct-horse-battery"})
    page = client.get(f"/beneficiaries/{ben}").get_data(as_text=True)
    head = page.split('<div class="page-head">')[1].split('<div class="profile">')[0]
    # sorted by order: the download (1) before the ledger (5); the download is not boosted
    download = f'<a class="button" href="/ledger/{ben}.pdf" hx-boost="false">تنزيل الدفتر</a>'
    ledger = f'<a class="button" href="/ledger/{ben}">دفتر الزيارات</a>'
    assert download in head and ledger in head and head.index(download) < head.index(ledger)
    assert "/dropped" not in page
    side = page.split('<div class="side">')[1].split('<div class="main-col">')[0]
    assert 'id="ledger-panel"' in side and "&lt;b&gt;escaped&lt;/b&gt;" in side
    assert side.index('id="ledger-panel"') < side.index("&lt;b&gt;escaped")
    # a researcher gets nothing from this plugin
    client.post("/logout")
    client.post("/login", data={"username": "researcher", "password": "correct-horse-battery"})
    page = client.get(f"/beneficiaries/{ben}").get_data(as_text=True)
    assert "/ledger/" not in page and "ledger-panel" not in page


def test_hook_case_actions(app_config, users, make_beneficiary):
    import datetime as dt

    app = make_app(app_config, Ledger())
    ben = make_beneficiary()
    with app.app_context(), database.connection_context():
        from portal.models import Beneficiary, Case

        open_case = Case.create(reference="1448-000901", beneficiary=Beneficiary.get_by_id(ben),
                                request_type="rent", status="submitted", channel="website",
                                submitted_at=dt.datetime(2026, 11, 20, 8, 0))
        Case.create(reference="1448-000902", beneficiary=open_case.beneficiary, request_type="rent",
                    status="closed", channel="website", submitted_at=dt.datetime(2026, 11, 20, 8, 0))
    client = app.test_client()
    client.post("/login", data={"username": "officer", "password": "correct-horse-battery"})
    page = client.get("/cases/1448-000901").get_data(as_text=True)
    tools = page.split('class="tools-bar"')[1].split("</nav>")[0]
    assert '<a class="button" href="/ledger/case/1448-000901">إصدار سند</a>' in tools
    assert '<section class="panel" id="case-ledger">1448-000901</section>' in page
    assert page.index('id="case-ledger"') < page.index('id="h-case-timeline"')
    closed = client.get("/cases/1448-000902").get_data(as_text=True)
    tools = closed.split('class="tools-bar"')[1].split("</nav>")[0]
    assert "disabled" in tools and "الطلب مغلق" in tools and "/ledger/case/" not in tools
