"""Every plugin's settings, as its ``plugin_settings`` hook declares them, are the table on its docs page, and
no code gives a declared setting a second default (``config.get(NAME, default)``, ``setdefault``)."""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import settings_table  # noqa: E402


def test_each_plugin_docs_page_lists_its_settings():
    drawn, pages = settings_table.tables(), settings_table.pages()
    assert {"phone", "letters", "social", "website", "portal.workflow.hooks"} <= set(drawn)
    missing = sorted(set(drawn) - set(pages))
    assert not missing, f"no <!-- settings: NAME --> table in docs/ for {missing}"
    for name, path in pages.items():
        written = {m["name"]: m["table"] for m in settings_table.BLOCK.finditer(path.read_text(encoding="utf-8"))}
        assert written[name] == drawn.get(name, ""), (
            f"{path.relative_to(ROOT)}: the settings table of {name} differs from its plugin_settings hook; "
            "run `.venv/bin/python tools/settings_table.py --write`")


def test_declared_settings_have_one_default():
    names = [row.split("`PORTAL_")[1].split("`")[0] for table in settings_table.tables().values()
             for row in table.splitlines()[2:]]
    pattern = re.compile(r"""(config\.get\(|setdefault\()\s*["'](%s)["']\s*,""" % "|".join(names))
    offenders = [f"{path.relative_to(ROOT)}:{n}" for folder in ("portal", "plugins") for path in (ROOT / folder).rglob("*.py")
                 for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if pattern.search(line)]
    assert not offenders, f"a second default for a declared setting: {offenders}"
