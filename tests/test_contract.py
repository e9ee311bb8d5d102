"""Meta-tests that keep the plugin contract honest (in Datasette's manner)."""
import inspect
import re
from pathlib import Path

import pytest

from portal import hookspecs

ROOT = Path(__file__).resolve().parent.parent
HOOKS = sorted(
    name for name, obj in vars(hookspecs).items()
    if inspect.isfunction(obj) and hasattr(obj, "portal_spec")
)


def test_hooks_were_found():
    assert {"channel_info", "register_blueprints", "render_timeline_entry", "send_message"} <= set(HOOKS)


@pytest.mark.parametrize("name", HOOKS)
def test_hook_is_documented_with_its_signature(name):
    docs = (ROOT / "docs" / "plugin_hooks.md").read_text(encoding="utf-8")
    signature = f"{name}({', '.join(inspect.signature(getattr(hookspecs, name)).parameters)})"
    assert f"## {name}\n" in docs, f"docs/plugin_hooks.md has no section for {name}"
    assert f"`{signature}`" in docs, f"docs/plugin_hooks.md does not give the signature {signature}"


@pytest.mark.parametrize("name", HOOKS)
def test_hook_has_a_test(name):
    pattern = re.compile(rf"^def test_hook_{name}\b", re.M)
    found = [p for p in (ROOT / "tests").rglob("test_*.py") if pattern.search(p.read_text(encoding="utf-8"))]
    assert found, f"no test_hook_{name} in tests/"


@pytest.mark.parametrize("name", HOOKS)
def test_hook_spec_has_a_docstring(name):
    assert (getattr(hookspecs, name).__doc__ or "").strip()


def test_core_never_imports_plugins():
    offenders = []
    for path in (ROOT / "portal").rglob("*.py"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.match(r"\s*(from|import)\s+plugins\b", line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}")
    assert not offenders, offenders


# --- timeline entries are written only by portal/timeline.py -----------------------------------------------

_ENTRY_WRITE = re.compile(
    r"\bTimelineEntry\s*\.\s*(create|insert|insert_many|insert_from|replace|replace_many|update|delete|delete_by_id|"
    r"bulk_create|bulk_update|get_or_create)\s*\("
    r"|\bbulk_insert\s*\(\s*TimelineEntry\b"
    r"|\b\w*entry\w*\s*\.\s*(save|delete_instance)\s*\(",
    re.I,
)


def timeline_write_offenders(root: Path) -> list[str]:
    """Lines under ``root``'s ``portal/`` and ``plugins/`` (migrations left out) that write
    ``TimelineEntry`` other than through the services of ``portal/timeline.py``: the model's write
    methods, the bulk insert helper given the model, ``.save()``/``.delete_instance()`` on an entry."""
    offenders = []
    for top in ("portal", "plugins"):
        for path in sorted((root / top).rglob("*.py")):
            relative = path.relative_to(root)
            if relative.as_posix() == "portal/timeline.py" or "migrations" in relative.parts:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if _ENTRY_WRITE.search(line.split("#", 1)[0]):
                    offenders.append(f"{relative}:{number}: {line.strip()}")
    return offenders


def test_only_the_timeline_services_write_timeline_entries():
    offenders = timeline_write_offenders(ROOT)
    assert not offenders, "write TimelineEntry through portal.timeline (log_entry, create_entries, " \
                          "update_entry, update_entries):\n" + "\n".join(offenders)


@pytest.mark.parametrize("line", [
    "TimelineEntry.update(data=data).where(TimelineEntry.id == entry.id).execute()",
    "TimelineEntry.insert_many(rows).execute()",
    "TimelineEntry.create(channel='x', summary='y')",
    "TimelineEntry.delete().where(TimelineEntry.id == 1).execute()",
    "bulk_insert(TimelineEntry, rows)",
    "entry.save()",
    "new_entry.delete_instance()",
])
def test_the_timeline_write_check_catches_a_planted_violation(tmp_path, line):
    allowed = tmp_path / "portal" / "timeline.py"
    allowed.parent.mkdir()
    allowed.write_text(f"def log_entry():\n    {line}\n", encoding="utf-8")
    migration = tmp_path / "plugins" / "pigeon" / "migrations" / "0001_initial.py"
    migration.parent.mkdir(parents=True)
    migration.write_text(f"def up(migrator, db):\n    {line}\n", encoding="utf-8")
    plugin = tmp_path / "plugins" / "pigeon" / "service.py"
    plugin.write_text("def fine(call):\n    call.save()  # a PhoneCall, not an entry\n", encoding="utf-8")
    assert timeline_write_offenders(tmp_path) == []
    plugin.write_text(f"def patch(entry, rows, data):\n    {line}\n", encoding="utf-8")
    assert timeline_write_offenders(tmp_path) == [f"plugins/pigeon/service.py:2: {line}"]
