"""``docs/writing_a_plugin.md`` holds a whole channel plugin: its files are taken out of the page, installed as a
distribution in a temporary folder (found by its entry point, like any installed plugin) and walked through, so
the page cannot drift from the portal."""
import importlib
import re
import sys
import tomllib
from pathlib import Path

import pytest
from markupsafe import escape

from portal import create_app
from portal.db import database, migrate

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "writing_a_plugin.md"
BLOCK = re.compile(r"^```\w+ file=(?P<path>\S+)\n(?P<code>.*?)^```$", re.S | re.M)
PASSWORD = "correct-horse-battery"


def doc_files() -> dict[str, str]:
    return {m["path"]: m["code"] for m in BLOCK.finditer(DOC.read_text(encoding="utf-8"))}


@pytest.fixture
def installed(tmp_path, monkeypatch, app_config):
    """The doc's distribution written out and made importable and discoverable (a ``*.dist-info`` folder with
    ``METADATA`` and ``entry_points.txt`` on ``sys.path`` is what ``importlib.metadata`` reads)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    files = doc_files()
    for path, code in files.items():
        target = tmp_path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(code, encoding="utf-8")
    project = tomllib.loads(files["pyproject.toml"])["project"]
    info = tmp_path / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n")
    (info / "entry_points.txt").write_text("".join(
        f"[{group}]\n" + "".join(f"{name} = {value}\n" for name, value in points.items())
        for group, points in project["entry-points"].items()))
    catalog = tmp_path / "sila_visits" / "translations" / "ar" / "LC_MESSAGES"
    with open(catalog / "messages.po", "rb") as po, open(catalog / "messages.mo", "wb") as mo:
        write_mo(mo, read_po(po))  # what `pybabel compile` does
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    yield files
    # PostgreSQL keeps one schema for the session: leave no table or history of the plugin behind.
    with create_app(app_config).app_context(), database.connection_context():
        database.obj.execute_sql('DROP TABLE IF EXISTS "visit"')
        database.obj.execute_sql('DROP TABLE IF EXISTS "schema_migration_visits"')
    for name in [m for m in sys.modules if m == "sila_visits" or m.startswith("sila_visits.")]:
        monkeypatch.delitem(sys.modules, name)


def test_the_doc_holds_a_whole_plugin_under_80_lines():
    files = doc_files()
    assert {"pyproject.toml", "sila_visits/__init__.py", "sila_visits/views.py", "sila_visits/models.py",
            "sila_visits/migrations/0001_initial.py", "sila_visits/templates/visits/_form.html",
            "sila_visits/templates/visits/_entry.html", "sila_visits/translations/ar/LC_MESSAGES/messages.po",
            "tests/test_visits.py"} <= set(files)
    # Lines of Python of the plugin, blank lines included, its migration too; its test is not counted.
    counted = {path: len(code.splitlines()) for path, code in files.items()
               if path.startswith("sila_visits/") and path.endswith(".py")}
    assert sum(counted.values()) < 80, counted
    doc = DOC.read_text(encoding="utf-8")
    for hook in ("channel_info", "plugin_settings", "beneficiary_actions", "render_timeline_entry",
                 "register_migrations", "register_blueprints"):
        assert f"def {hook}" in files["sila_visits/__init__.py"] or f"{hook} =" in files["sila_visits/__init__.py"]
        assert f"`{hook}`" in doc


def test_the_doc_plugin_works(installed, app_config, users, make_beneficiary):
    from portal.plugins import available_plugins

    assert available_plugins()["visits"] == "sila_visits"  # found by its entry point, like an installed one
    app = create_app(dict(app_config, PLUGINS="interview,visits", WTF_CSRF_ENABLED=True))
    assert app.config["VISITS_NOTE_MAX"] == 500  # its setting's default
    with app.app_context(), database.connection_context():
        assert migrate(app.extensions["portal_pm"]) == ["visits:0001_initial"]
        assert "visit" in database.obj.get_tables()
    ben = make_beneficiary()
    client = app.test_client()

    def login(username):
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)[1]
        client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})

    login("officer")
    page = client.get(f"/beneficiaries/{ben}").get_data(as_text=True)
    side = page.split('<div class="side">')[1]
    form = side.split(f'action="/visits/{ben}"')[1].split("</form>")[0]
    assert "تسجيل زيارة منزلية" in side and 'name="note"' in form
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)[1]
    # the generic contact form does not offer the channel (manual=False)
    contact_form = page.split(f'action="/beneficiaries/{ben}/contacts"')[1].split("</form>")[0]
    assert 'value="interview"' in contact_form and 'value="visit"' not in contact_form
    # without the form's token: refused, nothing written
    assert client.post(f"/visits/{ben}", data={"note": "زيارة"}).status_code == 400
    # a note too long: refused with the message in Arabic, nothing written
    typed = "<b>السقف</b> " * 60
    refused = client.post(f"/visits/{ben}", data={"note": typed, "csrf_token": token})
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    panel = html.split('<div class="side">')[1].split('action="/visits/')[1].split("</form>")[0]
    # the message beside the field, what was typed kept (escaped), the unticked box left unticked
    assert 'aria-describedby="e-visit-note"' in panel and "اكتب ما وجدته في 500 حرفًا على الأكثر." in panel
    assert ">" + str(escape(typed)) + "</textarea>" in panel and "<b>السقف" not in html
    assert 'name="present" value="1">' in panel
    # the file's other forms are drawn fresh: the generic contact form does not get the note
    assert str(escape(typed)) not in html.split(f'action="/beneficiaries/{ben}/contacts"')[1].split("</form>")[0]
    with app.app_context(), database.connection_context():
        assert database.obj.execute_sql("SELECT COUNT(*) FROM visit").fetchone()[0] == 0
    done = client.post(f"/visits/{ben}", data={"note": "السقف يحتاج إلى ترميم", "present": "1", "csrf_token": token})
    assert done.status_code == 302
    page = client.get(f"/beneficiaries/{ben}").get_data(as_text=True)
    entry = page.split('class="entry dir-out ch-visit"')[1].split("</li>")[0]
    assert "السقف يحتاج إلى ترميم" in entry and "كانت الأسرة في المنزل" in entry
    assert "الزيارات المنزلية" in entry and "مستخدم officer" in entry  # the core's frame: channel and author
    with app.app_context(), database.connection_context():
        from portal.models import TimelineEntry

        rows = database.obj.execute_sql("SELECT beneficiary_id, present FROM visit").fetchall()
        assert [(r[0], bool(r[1])) for r in rows] == [(ben, True)]
        assert TimelineEntry.select().where(TimelineEntry.channel == "visit").count() == 1
    # a role the plugin does not serve gets no form, and a 403 with a valid token
    client.post("/logout", data={"csrf_token": token})
    login("committee")
    page = client.get(f"/beneficiaries/{ben}").get_data(as_text=True)
    assert "/visits/" not in page
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)[1]
    assert client.post(f"/visits/{ben}", data={"note": "زيارة", "csrf_token": token}).status_code == 403
    # the admin's plugins page shows the channel and its setting
    client.post("/logout", data={"csrf_token": token})
    login("admin")
    plugins = client.get("/admin/plugins").get_data(as_text=True)
    assert "الزيارات المنزلية" in plugins and "PORTAL_VISITS_NOTE_MAX" in plugins
    assert "أطول ملاحظة للزيارة بعدد الأحرف." in plugins


def test_the_doc_test_passes(installed, app_config, users, make_beneficiary):
    """The test the page gives for the plugin runs green against the portal's fixtures."""
    namespace = {}
    exec(compile(installed["tests/test_visits.py"], "tests/test_visits.py", "exec"), namespace)  # noqa: S102
    namespace["test_a_visit_reaches_the_timeline"](app_config, users, make_beneficiary)
