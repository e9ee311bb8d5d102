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
