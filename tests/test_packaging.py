"""``pip install .`` gives a working portal, not only an editable checkout.

Builds the wheel the way a deployment would (``pip wheel --no-deps``), checks that it carries the
templates, static files, fetched htmx, compiled catalogs and the plugin entry points, then installs it
into a fresh virtualenv and runs the ``portal`` command and the app from there, away from the source
tree. Slow (a minute or so, mostly installing dependencies); CI runs it.
"""
from __future__ import annotations

import configparser
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

pytestmark = [pytest.mark.slow, pytest.mark.packaging]

ROOT = Path(__file__).resolve().parent.parent


def _run(cmd, **kwargs):
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=900, **kwargs)
    assert result.returncode == 0, f"{cmd} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    return result


def _tracked_files(*folders: str) -> list[str]:
    """Files git knows under ``folders`` (what a fresh clone has), or every file when git is unavailable."""
    if shutil.which("git") and (ROOT / ".git").exists():
        out = _run(["git", "-C", str(ROOT), "ls-files", "-z", "--", *folders]).stdout
        return [name for name in out.split("\0") if name]
    return [str(p.relative_to(ROOT)) for f in folders for p in (ROOT / f).rglob("*") if p.is_file()]


def _catalogs() -> list[Path]:
    return sorted(ROOT.glob("portal/translations/*/LC_MESSAGES/*.po")) + sorted(
        ROOT.glob("plugins/*/translations/*/LC_MESSAGES/*.po")
    )


def _translated_pairs(limit_per_catalog: int = 5) -> list[tuple[str, str]]:
    """A few (msgid, Arabic msgstr) pairs from each Arabic catalog, to look up in the installed app."""
    pairs = []
    for po in _catalogs():
        if po.parts[-3] != "ar":
            continue
        with open(po, "rb") as fh:
            catalog = read_po(fh)
        taken = 0
        for message in catalog:
            if message.id and isinstance(message.id, str) and message.string and not message.fuzzy \
                    and "%" not in message.id:
                pairs.append((message.id, message.string))
                taken += 1
                if taken == limit_per_catalog:
                    break
    return pairs


def _msgid(message) -> str:
    """The singular msgid (plural messages carry a tuple or list of forms)."""
    return message.id if isinstance(message.id, str) else message.id[0]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)])
    (built,) = out.glob("*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh virtualenv with the wheel (and its dependencies) installed; returns its bin directory."""
    env_dir = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    bin_dir = env_dir / "bin"
    _run([str(bin_dir / "python"), "-m", "pip", "install", "-q", str(wheel)])
    return bin_dir


def test_wheel_contains_templates_static_files_catalogs_and_plugins(wheel):
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        dist_info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
        entry_points = configparser.ConfigParser(delimiters=("=",))
        entry_points.optionxform = str
        entry_points.read_string(zf.read(f"{dist_info}/entry_points.txt").decode())
        htmx = zf.read("portal/static/vendor/htmx.min.js")
        mo_files = {n: zf.read(n) for n in names if n.endswith(".mo")}

    for required in ("portal/templates/base.html", "portal/static/css/app.css", "portal/static/vendor/htmx.min.js"):
        assert required in names, f"{required} missing from {wheel.name}"
    pins = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["portal"]["vendor"]
    assert f'version:"{pins["htmx"]["version"]}"'.encode() in htmx

    # Every tracked source file of the packages ends up in the wheel: templates (the shell's and each
    # plugin's), static files, migrations, catalogs.
    expected = set()
    for name in _tracked_files("portal", "plugins", "templates"):
        expected.add("portal/" + name if name.startswith("templates/") else name)
    missing = sorted(expected - names)
    assert not missing, f"not in the wheel: {missing}"
    for plugin_templates in ROOT.glob("plugins/*/templates"):
        prefix = str(plugin_templates.relative_to(ROOT)) + "/"
        assert any(n.startswith(prefix) for n in names), f"{prefix} missing"

    # Catalogs are compiled at build time (.mo files are never committed).
    from babel.messages.mofile import read_mo

    for po in _catalogs():
        mo_name = str(po.relative_to(ROOT).with_suffix(".mo"))
        assert mo_name in mo_files, f"{mo_name} (compiled from {po.name}) missing from the wheel"
        with open(po, "rb") as fh:
            source = read_po(fh)
        compiled = read_mo(io.BytesIO(mo_files[mo_name]))
        translated = {_msgid(m) for m in source if m.id and m.string and not m.fuzzy}
        assert translated, f"{po} has no translations"
        assert translated <= {_msgid(m) for m in compiled if m.id}

    # Nothing from the developer's machine.
    assert not [n for n in names if n.startswith(("tests/", "instance/", ".venv/")) or "/__pycache__/" in n]

    # Entry points: the command and every plugin declared in pyproject.toml.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert dict(entry_points["console_scripts"]) == project["scripts"]
    assert dict(entry_points["portal.plugins"]) == project["entry-points"]["portal.plugins"]


INSTALLED_CHECK = r"""
import json, re, sys
from pathlib import Path

import plugins, portal
from flask_babel import force_locale, gettext
from portal import create_app

args = json.loads(sys.argv[1])
prefix = Path(sys.prefix).resolve()
for module in (portal, plugins):
    assert prefix in Path(module.__file__).resolve().parents, f"{module.__name__} imported from {module.__file__}"

app = create_app()
assert not app.testing and not app.debug and app.config["WTF_CSRF_ENABLED"] is not False
names = sorted(name for name, _ in app.extensions["portal_pm"].list_name_plugin())
for template in args["templates"]:
    app.jinja_env.get_template(template)
with app.test_request_context():
    for msgid, msgstr in args["translations"]:
        with force_locale("ar"):
            assert gettext(msgid) == msgstr, (msgid, gettext(msgid), msgstr)

client = app.test_client()
page = client.get("/login")
assert page.status_code == 200, page.status_code
html = page.get_data(as_text=True)
assert '<html lang="ar" dir="rtl">' in html
assert 'href="/static/css/app.css"' in html and 'src="/static/vendor/htmx.min.js"' in html
assert '<html lang="en" dir="ltr">' in client.get("/login?lang=en").get_data(as_text=True)
client.get("/login?lang=ar")
for path in ("/static/css/app.css", "/static/vendor/htmx.min.js", "/static/favicon.svg", "/fonts/plex-arabic-400.ttf",
             "/fonts/amiri-400.ttf"):
    response = client.get(path)
    assert response.status_code == 200 and len(response.data) > 100, (path, response.status_code)
    response.close()

token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
    r'name="csrf_token" value="([^"]+)"', html)
response = client.post("/login", data={"username": args["username"], "password": args["password"],
                                       "csrf_token": token.group(1)})
assert response.status_code == 302, response.status_code
listing = client.get("/beneficiaries/")
assert listing.status_code == 200
ids = re.findall(r'href="/beneficiaries/(\d+)"', listing.get_data(as_text=True))
assert ids, "the demo data is not listed"
profile = client.get(f"/beneficiaries/{ids[0]}")
assert profile.status_code == 200 and 'id="timeline-rows"' in profile.get_data(as_text=True)
print(json.dumps({"plugins": names}))
"""


def test_installed_wheel_runs_outside_the_source_tree(installed, tmp_path):
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "PYTHON", "VIRTUAL_ENV"))}
    env.update({
        "PATH": f"{installed}{os.pathsep}{env.get('PATH', '')}",
        "PORTAL_INSTANCE_PATH": str(tmp_path / "instance"),
        "PORTAL_DATABASE_URL": f"sqlite:///{tmp_path / 'portal.sqlite3'}",
    })
    portal = str(installed / "portal")

    # Without a secret key the command says so in one line, no traceback.
    refused = subprocess.run([portal, "migrate"], cwd=work, env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode != 0
    assert "PORTAL_SECRET_KEY" in refused.stderr and "Traceback" not in refused.stderr

    env["PORTAL_SECRET_KEY"] = os.urandom(24).hex()
    helped = _run([portal, "--help"], cwd=work, env=env)
    for command in ("migrate", "demo", "run", "worker", "user", "token"):
        assert re.search(rf"^\s+{command}\s", helped.stdout, re.M), f"`portal {command}` missing:\n{helped.stdout}"
    assert "Traceback" not in helped.stderr

    first = _run([portal, "migrate"], cwd=work, env=env)
    assert "applied core:" in first.stdout
    again = _run([portal, "migrate"], cwd=work, env=env)
    assert "0 migration(s) applied" in again.stdout
    _run([portal, "demo", "--beneficiaries", "12", "--entries", "60"], cwd=work, env=env)
    _run([portal, "user", "create", "installcheck", "--role", "officer", "--password", "install-check-pass-1"],
         cwd=work, env=env)

    templates = [str(p.relative_to(ROOT / "templates")) for p in (ROOT / "templates").rglob("*.html")]
    for folder in ROOT.glob("plugins/*/templates"):
        templates += [str(p.relative_to(folder)) for p in folder.rglob("*.html")]
    args = {"templates": templates, "translations": _translated_pairs(),
            "username": "installcheck", "password": "install-check-pass-1"}
    result = _run([str(installed / "python"), "-I", "-c", INSTALLED_CHECK, json.dumps(args)], cwd=work, env=env)
    enabled = json.loads(result.stdout.strip().splitlines()[-1])["plugins"]
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]["portal.plugins"]
    assert set(declared) <= set(enabled)
