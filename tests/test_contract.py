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


# --- the core names no channel -------------------------------------------------------------------------------

# Fixed vocabularies of the core that share words with channel keys without being channels: how a
# beneficiary gave or withdrew consent (the law's evidence, recorded whatever plugins are enabled).
NOT_CHANNEL_VOCABULARIES = ("CONSENT_CHANNELS", "CONSENT_CHANNEL")
_TEMPLATE_LITERAL = re.compile(r"""(["'])([a-z][a-z0-9_]*)\1""")


def plugin_channel_keys(root: Path) -> set[str]:
    """The channel keys the plugins under ``root/plugins`` declare (``declare_channel("key", ...)`` or a
    ``channel_info`` answering ``{"key": "..."}``)."""
    keys = set()
    for path in (root / "plugins").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        keys.update(re.findall(r"""declare_channel\(\s*["']([a-z0-9_]+)["']""", text))
        if "def channel_info" in text:
            keys.update(re.findall(r"""["']key["']\s*:\s*["']([a-z0-9_]+)["']""", text))
    keys.discard("system")
    return keys


def _is_channel_word(value: str, keys: set[str]) -> bool:
    return value in keys or any(value.startswith(key + "_") for key in keys)


def _python_literals(path: Path, keys: set[str]):
    """(line, value, as_name) of every plain string literal, leaving out the fixed vocabularies above.
    ``as_name`` tells a literal used as a name rather than a value: a dict key, a subscript, the key
    of ``.get()``, or one of a tuple/list/set of strings that are not all channel words (field lists)."""
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped, names = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id in NOT_CHANNEL_VOCABULARIES for t in targets):
                skipped.update(range(node.lineno, node.end_lineno + 1))
        elif isinstance(node, ast.Dict):
            names.update(id(k) for k in node.keys if k is not None)
        elif isinstance(node, ast.Subscript):
            names.add(id(node.slice))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
              and node.args):
            names.add(id(node.args[0]))
        elif isinstance(node, ast.Tuple | ast.List | ast.Set):
            words = [e for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
            if any(not _is_channel_word(e.value, keys) for e in words):
                names.update(id(e) for e in words)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.lineno not in skipped:
            yield node.lineno, node.value, id(node) in names


def channel_literal_offenders(root: Path, keys: set[str], field_names: set[str] = frozenset()) -> list[str]:
    """String literals under ``root``'s ``portal/`` (migrations left out) and ``templates/`` equal to a
    channel key of ``keys`` or starting with one and ``_`` (``"phone_read"``). A key that is also a field
    name of a core model (``email``, ``phone``: in ``field_names``) counts only on a line about a channel
    (one that says ``channel``) and, in Python, where it is used as a value, not as a name (see
    ``_python_literals``)."""
    offenders = []
    files = [p for p in sorted((root / "portal").rglob("*.py")) if "migrations" not in p.relative_to(root).parts]
    files += sorted((root / "templates").rglob("*.html"))
    for path in files:
        lines = path.read_text(encoding="utf-8").splitlines()
        if path.suffix == ".py":
            found = list(_python_literals(path, keys))
        else:
            found = [(n, m.group(2), False) for n, line in enumerate(lines, 1)
                     for m in _TEMPLATE_LITERAL.finditer(line)]
        for number, value, as_name in found:
            if not _is_channel_word(value, keys):
                continue
            if value in field_names and (as_name or "channel" not in lines[number - 1].lower()):
                continue
            offenders.append(f"{path.relative_to(root)}:{number}: {value!r}")
    return sorted(set(offenders))


def _core_field_names() -> set[str]:
    from portal.models import CORE_MODELS
    from portal.workflow.models import WORKFLOW_MODELS

    return {name for model in CORE_MODELS + WORKFLOW_MODELS for name in model._meta.fields}


def test_plugins_declare_the_channels_the_check_looks_for():
    assert {"interview", "phone", "social", "email", "letters", "website"} <= plugin_channel_keys(ROOT)


def test_the_core_names_no_channel():
    keys = plugin_channel_keys(ROOT)
    offenders = channel_literal_offenders(ROOT, keys, _core_field_names() & keys)
    assert not offenders, ("channel keys written in the core (take them from the registered channels, "
                           "configuration or a plugin hook):\n" + "\n".join(offenders))


@pytest.mark.parametrize(("relative", "text"), [
    ("portal/models.py", 'class Case:\n    channel = CharField(default="interview")\n'),
    ("portal/workflow/intake.py", 'def f(method):\n    return method != "website_tick"\n'),
    ("portal/service.py", 'def f(values):\n    values["preferred_channel"] = "phone"\n'),
    ("templates/beneficiaries/form.html", '<option value="email">{{ _("Email") }} channel</option>\n'),
    ("templates/outreach/queue.html", '{{ pselect("channel", {"channel": "phone"}) }}\n'),
])
def test_the_channel_check_catches_a_planted_violation(tmp_path, relative, text):
    keys = {"interview", "phone", "email", "website"}
    fields = {"phone", "email"}
    for clean, content in {
        "portal/clean.py": ('"""Channels such as "phone" are plugins."""\nSYSTEM = "system"\n'
                            'CONSENT_CHANNELS = ("phone", "website")\nFIELDS = ("email", "mobile")\n'),
        "portal/migrations/0001_initial.py": 'DEFAULT = "interview"\n',
        "templates/clean.html": '{{ field("email", _("Email"), type="email") }}\n',
    }.items():
        (tmp_path / clean).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / clean).write_text(content, encoding="utf-8")
    assert channel_literal_offenders(tmp_path, keys, fields) == []
    planted = tmp_path / relative
    planted.parent.mkdir(parents=True, exist_ok=True)
    planted.write_text(text, encoding="utf-8")
    offenders = channel_literal_offenders(tmp_path, keys, fields)
    assert len(offenders) == 1 and offenders[0].startswith(f"{relative}:2:" if relative.endswith(".py") else
                                                             f"{relative}:1:")
