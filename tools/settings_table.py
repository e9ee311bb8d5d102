"""The settings tables of the plugins' docs pages, drawn from their ``plugin_settings`` hooks.

A docs page holds a table between ``<!-- settings: NAME -->`` and ``<!-- /settings -->`` (NAME the plugin's
entry-point name, or ``portal.workflow.hooks``). ``python tools/settings_table.py`` prints every table;
``--write`` rewrites them in ``docs/*.md``; ``tests/test_settings_docs.py`` fails when a page and the hook
disagree.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
BLOCK = re.compile(r"(<!-- settings: (?P<name>[\w.]+) -->\n)(?P<table>.*?)(<!-- /settings -->)", re.S)


def _default(decl: dict) -> str:
    value = decl["default"]
    if value is None or value == "":
        return "—"
    if decl["type"] == "list":
        value = ",".join(value)
    elif not isinstance(value, str):
        value = json.dumps(value, ensure_ascii=False)
    return f"`{value}`"


def tables() -> dict[str, str]:
    """Plugin name -> its markdown table (English descriptions)."""
    from flask_babel import force_locale

    from portal import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": "sqlite:///:memory:", "PLUGINS": "all"})
    found: dict[str, list[str]] = {}
    with app.test_request_context(), force_locale("en"):
        for decl in app.extensions["portal_settings"]:
            kind = decl["type"] + (f" ({', '.join(decl['choices'])})" if decl["choices"] else "")
            kind += f", {decl['unit']}" if decl["unit"] else ""
            kind += ", secret" if decl["secret"] else ""
            found.setdefault(decl["plugin"], []).append(
                f"| `PORTAL_{decl['name']}` | {_default(decl)} | {kind} | {str(decl['description'])} |")
    head = "| setting | default | type | meaning |\n|---|---|---|---|\n"
    return {name: head + "\n".join(rows) + "\n" for name, rows in found.items()}


def pages() -> dict[str, Path]:
    """Plugin name -> the docs page that holds its table."""
    return {m["name"]: path for path in sorted(DOCS.glob("*.md"))
            for m in BLOCK.finditer(path.read_text(encoding="utf-8"))}


def write() -> list[Path]:
    drawn, changed = tables(), []
    for path in sorted(DOCS.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        new = BLOCK.sub(lambda m: m[1] + drawn.get(m["name"], "") + m[4], text)
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(path)
    return changed


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    if "--write" in sys.argv:
        for path in write():
            print(f"updated {path.relative_to(ROOT)}")
    else:
        for name, table in tables().items():
            print(f"<!-- settings: {name} -->\n{table}<!-- /settings -->\n")
