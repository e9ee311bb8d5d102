"""Builds the plugin manager: specs -> enabled entry points -> built-ins -> check_pending()."""
from __future__ import annotations

import importlib
import importlib.metadata

import pluggy
from flask import current_app

from . import hookspecs

ENTRY_POINT_GROUP = "portal.plugins"
DEFAULT_PLUGINS = ("portal.default_hooks", "portal.workflow.hooks", "portal.complaints.hooks", "portal.satisfaction.hooks")


def available_plugins() -> dict[str, str]:
    """Plugin name -> module path, from the ``portal.plugins`` entry-point group."""
    return {ep.name: ep.value for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}


def build_plugin_manager(enabled=None, extra=()) -> pluggy.PluginManager:
    """``enabled``: None or "all" for every installed plugin, or an iterable of plugin names."""
    pm = pluggy.PluginManager("portal")
    pm.add_hookspecs(hookspecs)
    found = available_plugins()
    if enabled is None or enabled == "all":
        names = sorted(found)
    else:
        if isinstance(enabled, str):
            enabled = [n.strip() for n in enabled.split(",") if n.strip()]
        unknown = [n for n in enabled if n not in found]
        if unknown:
            raise RuntimeError(
                f"PORTAL_PLUGINS names unknown plugins: {', '.join(unknown)}; installed: {', '.join(sorted(found))}"
            )
        names = list(enabled)
    for name in names:
        pm.register(importlib.import_module(found[name]), name=name)
    for module_name in DEFAULT_PLUGINS:
        pm.register(importlib.import_module(module_name), name=module_name)
    for obj in extra:
        pm.register(obj)
    pm.check_pending()
    return pm


def get_pm() -> pluggy.PluginManager:
    return current_app.extensions["portal_pm"]


def hook():
    return get_pm().hook


def channels() -> list[dict]:
    """Every enabled channel, sorted by its ``order``."""
    return sorted((c for c in hook().channel_info() if c), key=lambda c: (c.get("order", 100), c["key"]))


def channel_map() -> dict[str, dict]:
    return {c["key"]: c for c in channels()}
