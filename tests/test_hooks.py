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
        def register_migrations(self):
            return [("pigeon", migrations)]

    return Plugin(), Nest


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


def test_hook_timeline_entry_updated(app_config, users, make_beneficiary):
    """``update_entry`` writes the change, audits it and tells the plugins inside its transaction (a
    plugin that raises rolls the change back); ``update_entries`` tells them once per entry."""
    from portal.models import AuditEvent
    from portal.timeline import log_entry, update_entries, update_entry

    seen = []

    class Plugin:
        @hookimpl
        def timeline_entry_updated(self, entry, changes):
            seen.append((entry.id, entry.summary, dict(changes)))
            if changes.get("summary") == "boom":
                raise RuntimeError("refused")

    app = make_app(app_config, Plugin())
    ben = make_beneficiary()
    with app.app_context(), database.connection_context():
        first = log_entry(channel="interview", summary="before", beneficiary=ben)
        second = log_entry(channel="interview", summary="other", beneficiary=ben)
        assert update_entry(first, summary="after", follow_up_done=True, by=users["officer"]) is first
        assert first.summary == "after" and TimelineEntry.get_by_id(first.id).summary == "after"
        event = AuditEvent.select().where(AuditEvent.object_type == "timeline_entry",
                                          AuditEvent.action == "update").get()
        assert (event.object_id, event.details, event.actor_id) == (
            str(first.id), {"fields": ["follow_up_done", "summary"]}, users["officer"])
        with pytest.raises(RuntimeError):
            update_entry(first.id, summary="boom")
        assert TimelineEntry.get_by_id(first.id).summary == "after"  # rolled back
        assert update_entry(999999, summary="x") is None
        with pytest.raises(ValueError):
            update_entry(first, colour="red")
        assert update_entries(TimelineEntry.beneficiary == ben, body="blank") == 2
        assert {e.body for e in TimelineEntry.select()} == {"blank"}
    assert seen[0] == (first.id, "after", {"summary": "after", "follow_up_done": True})
    assert seen[1][2] == {"summary": "boom"}
    assert sorted((i, c["body"]) for i, _s, c in seen[2:]) == [(first.id, "blank"), (second.id, "blank")]


def test_hook_timeline_entries_created(app_config, users, make_beneficiary):
    """A bulk write calls the hook once with every new entry, writes one audit event, and refuses an
    unknown channel before writing anything."""
    import datetime as dt

    from portal.models import AuditEvent
    from portal.timeline import UnknownChannel, create_entries

    calls = []

    class Plugin:
        @hookimpl
        def timeline_entries_created(self, entries):
            calls.append(sorted((e.id, e.channel, e.summary, e.beneficiary_id, e.data) for e in entries))

        @hookimpl
        def timeline_entry_created(self, entry):
            raise AssertionError("a bulk write does not call timeline_entry_created")

    app = make_app(app_config, Plugin())
    ben = make_beneficiary()
    when = dt.datetime(2026, 11, 20, 6, 15)
    rows = [{"channel": "phone", "summary": f"call {i}", "occurred_at": when, "beneficiary": ben,
             "data": {"n": i}} for i in range(3)]
    with app.app_context(), database.connection_context():
        entries = create_entries(rows, actor=users["officer"])
        assert len(entries) == 3 and all(e.id for e in entries)
        stored = {e.id: e for e in TimelineEntry.select()}
        assert sorted(stored) == sorted(e.id for e in entries)
        assert {(e.summary, e.data["n"], e.direction, e.body, e.follow_up_done) for e in stored.values()} == {
            (f"call {i}", i, "in", "", False) for i in range(3)}
        event = AuditEvent.get(AuditEvent.object_type == "timeline_entries")
        assert event.details["count"] == 3 and event.details["ids"] == sorted(stored)
        assert event.actor_id == users["officer"]
        with pytest.raises(UnknownChannel):
            create_entries([dict(rows[0], channel="pigeon")])
        with pytest.raises(ValueError):
            create_entries([{"channel": "phone", "summary": "no date"}])
        assert TimelineEntry.select().count() == 3 and create_entries([]) == []
    assert len(calls) == 1
    assert calls[0] == sorted((e.id, "phone", e.summary, ben, e.data) for e in entries)


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


class Kite:
    """A plugin with settings of each kind, one of them secret."""

    @hookimpl
    def plugin_settings(self):
        from portal.settings import setting

        return [setting("KITE_TOKEN", "", "The kite's token.", secret=True),
                setting("KITE_STRING_METRES", 30, "Length of the string.", type="int", unit="MB", minimum=1),
                setting("KITE_SPEED", 1.5, "Wind speed.", type="float"),
                setting("KITE_NIGHT", False, "Fly at night.", type="bool"),
                setting("KITE_COLOUR", "red", "Colour.", type="choice", choices=("red", "blue")),
                setting("KITE_DAYS", ["fri"], "Days.", type="list", choices=("fri", "sat")),
                setting("KITE_TAILS", {"long": 2}, "Tails.", type="json"),
                setting("KITE_LOGO", None, "Optional logo path.")]


def test_hook_plugin_settings(app_config, users):
    from portal import ConfigError

    # Defaults are filled in (a copy: changing the app's value leaves the declaration alone).
    app = make_app(app_config, Kite())
    assert (app.config["KITE_TOKEN"], app.config["KITE_STRING_METRES"], app.config["KITE_NIGHT"],
            app.config["KITE_DAYS"], app.config["KITE_TAILS"], app.config["KITE_LOGO"]) == (
        "", 30, False, ["fri"], {"long": 2}, None)
    app.config["KITE_TAILS"]["long"] = 9
    assert make_app(app_config, Kite()).config["KITE_TAILS"] == {"long": 2}
    # Values given as text (instance/config.py, a shell) are read in their type; digits for a text setting
    # (the environment is read as JSON) become text again.
    given = make_app(app_config, Kite(), KITE_STRING_METRES="45", KITE_NIGHT="yes", KITE_SPEED=2,
                     KITE_DAYS="fri, sat", KITE_TOKEN=20261127)
    assert (given.config["KITE_STRING_METRES"], given.config["KITE_NIGHT"], given.config["KITE_SPEED"],
            given.config["KITE_DAYS"], given.config["KITE_TOKEN"]) == (45, True, 2, ["fri", "sat"], "20261127")
    # A wrong value stops the start with a message naming the setting; a secret's value is not repeated.
    for key, value, words in (("KITE_STRING_METRES", "long", "must be a whole number; it is 'long'"),
                              ("KITE_STRING_METRES", 0, "must be at least 1"),
                              ("KITE_STRING_METRES", 2.5, "must be a whole number"),
                              ("KITE_NIGHT", "perhaps", "must be true or false"),
                              ("KITE_SPEED", True, "must be a number"),
                              ("KITE_COLOUR", "green", "must be one of red, blue"),
                              ("KITE_DAYS", "fri,sun", "must be a list of fri, sat"),
                              ("KITE_TAILS", [1], "must be a JSON object"),
                              ("KITE_TOKEN", 1.5, "it is (hidden)")):
        with pytest.raises(ConfigError) as refused:
            make_app(app_config, Kite(), **{key: value})
        assert f"PORTAL_{key} " in str(refused.value) and words in str(refused.value), str(refused.value)
    assert "1.5" not in str(refused.value)

    class Twin:
        @hookimpl
        def plugin_settings(self):
            from portal.settings import setting

            return [setting("KITE_COLOUR", "blue", "Again.")]

    with pytest.raises(ConfigError, match="PORTAL_KITE_COLOUR is declared by both"):
        make_app(app_config, Kite(), Twin())
    # The admin's plugins page lists them with their current values; a secret only says whether it is set.
    client = make_app(app_config, Kite(), KITE_TOKEN="s3cret-kite", KITE_COLOUR="blue").test_client()
    client.post("/login", data={"username": "admin", "password": "correct-horse-battery"})
    page = client.get("/admin/plugins?lang=en").get_data(as_text=True)
    kite = next(part for part in page.split('<section class="panel plugin"') if "KITE_TOKEN" in part)
    assert "<h2" in kite and "Kite" in kite.split("</h2>")[0]  # named after the plugin when it is no channel
    row = kite.split('id="setting-KITE_TOKEN"')[1].split("</tr>")[0]
    assert "PORTAL_KITE_TOKEN" in row and '<td class="value">set <span' in row and "s3cret-kite" not in page
    row = kite.split('id="setting-KITE_COLOUR"')[1].split("</tr>")[0]
    assert "Colour." in row and '<code dir="auto">blue</code>' in row
    assert '<td class="value">not set</td>' in kite.split('id="setting-KITE_LOGO"')[1].split("</tr>")[0]
    assert "Length of the string. (MB)" in kite


def test_plugins_page_speaks_of_channels_and_settings(app_config, users):
    """The admin's plugins page: each channel by its name in the reader's language, what it adds, its menu entries
    and settings; hook names only inside the collapsed technical details; installed plugins not enabled listed."""
    app = make_app(app_config, PLUGINS="phone,letters", PHONE_CTI_TOKEN="t0ken-of-the-pbx")
    client = app.test_client()
    client.post("/login", data={"username": "admin", "password": "correct-horse-battery"})
    page = client.get("/admin/plugins").get_data(as_text=True)
    phone = next(part for part in page.split('<section class="panel plugin"') if "PORTAL_PHONE_CTI_TOKEN" in part)
    assert "الاتصالات الهاتفية" in phone.split("</h2>")[0] and "مفعّلة" in phone.split("</h2>")[0]
    assert "تنبيهات في كل صفحات الموظفين" in phone  # page_notices, in words
    assert '<a href="/phone/">' in phone  # its menu entry
    cti = phone.split('id="setting-PHONE_CTI_TOKEN"')[1].split("</tr>")[0]
    assert "مضبوط" in cti and "t0ken-of-the-pbx" not in page
    offset = phone.split('id="setting-PHONE_CDR_UTC_OFFSET"')[1].split("</tr>")[0]
    assert '<code dir="auto">3</code>' in offset and "(ساعات)" in offset
    outside, details = phone.split('<details class="technical">')
    assert "render_timeline_entry" not in outside and "page_notices" not in outside
    assert "render_timeline_entry" in details and "page_notices" in details
    disabled = page.split('id="h-disabled"')[1]
    assert "<code>social</code>" in disabled and "<code>phone</code>" not in disabled
    english = client.get("/admin/plugins?lang=en").get_data(as_text=True)
    assert "Phone calls" in english and "notices on every staff page" in english


def test_hook_inbound_message(app_config, make_beneficiary):
    from portal.messaging import InboundMessage, beneficiaries_for_number, dispatch_inbound

    seen = []

    class Survey:
        @hookimpl(tryfirst=True)
        def inbound_message(self, message):
            seen.append(("survey", message.text))
            return True if message.reply_id == "rate-5" else None

    class Menu:
        @hookimpl
        def inbound_message(self, message):
            seen.append(("menu", message.text))
            if message.text == "boom":
                raise RuntimeError("a broken plugin")
            return True if message.text == "1" else None

    app = make_app(app_config, Survey(), Menu())
    first = make_beneficiary(mobile="0551112233")
    second = make_beneficiary(mobile="0551112233")
    with app.app_context(), database.connection_context():
        assert beneficiaries_for_number("+966551112233") == (first, second)
        assert beneficiaries_for_number("+966500000000") == () and beneficiaries_for_number("") == ()
        one = InboundMessage(channel="sms", sender="+966551112233", text="1", beneficiary_ids=(first,))
        assert one.beneficiary_id == first
        assert InboundMessage(channel="sms", sender="+966551112233", text="1",
                              beneficiary_ids=(first, second)).beneficiary_id is None
        assert dispatch_inbound(one) is True
        assert seen == [("survey", "1"), ("menu", "1")]
        seen.clear()
        # The first that handles it wins: the menu is not asked.
        assert dispatch_inbound(InboundMessage(channel="social", sender="", text="ممتاز", reply_id="rate-5")) is True
        assert seen == [("survey", "ممتاز")]
        # Nobody handles it: the channel keeps it; a failing plugin is logged, never raised.
        assert dispatch_inbound(InboundMessage(channel="sms", sender="", text="مرحبا")) is False
        assert dispatch_inbound(InboundMessage(channel="sms", sender="", text="boom")) is False


def test_hook_self_service_booking(app_config, make_beneficiary):
    class Appointments:
        @hookimpl(tryfirst=True)
        def self_service_booking(self, beneficiary, channel):
            if channel != "sms":
                return None
            return {"text": f"موعدك يوم الأحد، الملف {beneficiary.id}"}

    app = make_app(app_config, Appointments())
    ben = make_beneficiary()
    with app.app_context(), database.connection_context():
        from portal.models import Beneficiary

        b = Beneficiary.get_by_id(ben)
        hook = app.extensions["portal_pm"].hook
        assert hook.self_service_booking(beneficiary=b, channel="sms") == {"text": f"موعدك يوم الأحد، الملف {ben}"}


def test_hook_self_service_link(app_config, make_beneficiary):
    issued = []

    class Ratings:
        @hookimpl(tryfirst=True)
        def self_service_link(self, beneficiary, purpose, issue):
            if purpose != "rating":
                return None
            if not issue:
                return {"url": "", "expires_at": None}
            issued.append(beneficiary.id)
            return {"url": f"https://example.org/rate/{len(issued)}", "expires_at": None}

    app = make_app(app_config, Ratings())
    ben = make_beneficiary()
    with app.app_context(), database.connection_context():
        from portal.models import Beneficiary

        b = Beneficiary.get_by_id(ben)
        hook = app.extensions["portal_pm"].hook
        assert hook.self_service_link(beneficiary=b, purpose="rating", issue=False) == {"url": "", "expires_at": None}
        assert issued == []  # asking whether a link could be given writes nothing
        assert hook.self_service_link(beneficiary=b, purpose="rating", issue=True)["url"] == "https://example.org/rate/1"
        assert issued == [ben]


def test_hook_demo_data(app_config):
    """``portal demo`` asks every plugin for its own demonstration data after the core's, with the run's seed,
    and prints what each one added."""
    seen = []

    class Plugin:
        @hookimpl
        def demo_data(self, seed):
            from portal.models import Beneficiary

            seen.append((seed, Beneficiary.select().count()))  # the core's data is already there
            return {"pigeons": 7}

    app = make_app(app_config, Plugin(), PLUGINS="")
    result = app.test_cli_runner().invoke(args=["demo", "--beneficiaries", "5", "--entries", "10", "--seed", "9"])
    assert result.exit_code == 0, result.output
    assert len(seen) == 1 and seen[0][0] == 9 and seen[0][1] >= 5  # once, after the core's five files
    assert "pigeons 7" in result.output
