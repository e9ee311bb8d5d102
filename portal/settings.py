"""Plugin settings: each plugin declares its ``PORTAL_<NAME>`` settings with the ``plugin_settings`` hook;
``apply_settings`` fills the defaults into ``app.config`` and refuses to start on a value of the wrong type,
naming the setting. The admin's plugins page and the plugins' docs tables (``tools/settings_table.py``) read
the same declarations."""
from __future__ import annotations

import copy
import re

TYPES = ("str", "int", "float", "bool", "choice", "list", "json")
NAME_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off", "")


def setting(name: str, default, description, type: str = "str", secret: bool = False, choices=None,  # noqa: A002
            unit: str = "", minimum=None) -> dict:
    """One declaration for a ``plugin_settings`` answer. ``name`` without the ``PORTAL_`` prefix;
    ``description`` a lazy gettext (``_l``) in English; ``default`` None means "optional, not set"."""
    return {"name": name, "default": default, "description": description, "type": type, "secret": secret,
            "choices": tuple(choices or ()), "unit": unit, "min": minimum}


def _fail(decl: dict, value, expected: str):
    from . import ConfigError

    shown = "(hidden)" if decl["secret"] else repr(value)
    raise ConfigError(f"PORTAL_{decl['name']} must be {expected}; it is {shown}.")


def coerce(decl: dict, value):
    """The value in the declared type, or ConfigError naming the setting. Environment values arrive parsed as
    JSON (``PORTAL_X=3`` is the number 3), ``instance/config.py`` values as written."""
    kind = decl["type"]
    if value is None:
        if decl["default"] is None:
            return None
        _fail(decl, value, "set (it has no empty value)")
    if kind == "str":
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)  # digits read from the environment as a number
        if not isinstance(value, str):
            _fail(decl, value, f"text (in the environment, quote it: PORTAL_{decl['name']}='\"…\"')")
        return value
    if kind in ("int", "float"):
        if isinstance(value, str):
            try:
                value = int(value.strip()) if kind == "int" else float(value.strip())
            except ValueError:
                _fail(decl, value, "a whole number" if kind == "int" else "a number")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind == "int" and not isinstance(value, int)):
            _fail(decl, value, "a whole number" if kind == "int" else "a number")
        if decl["min"] is not None and value < decl["min"]:
            _fail(decl, value, f"at least {decl['min']}")
        return value
    if kind == "bool":
        if isinstance(value, str) and value.strip().lower() in TRUE_WORDS + FALSE_WORDS:
            return value.strip().lower() in TRUE_WORDS
        if not isinstance(value, bool):
            _fail(decl, value, "true or false")
        return value
    if kind == "choice":
        if value not in decl["choices"]:
            _fail(decl, value, "one of " + ", ".join(map(str, decl["choices"])))
        return value
    if kind == "list":
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            _fail(decl, value, "a comma-separated list")
        unknown = [v for v in value if decl["choices"] and v not in decl["choices"]]
        if unknown:
            _fail(decl, value, "a list of " + ", ".join(decl["choices"]))
        return list(value)
    if kind == "json":
        if not isinstance(value, type(decl["default"])):
            _fail(decl, value, f"a JSON {'object' if isinstance(decl['default'], dict) else 'value'}")
        return value
    raise AssertionError(kind)


def collect(pm) -> list[dict]:
    """Every declaration of every enabled plugin, each with its ``plugin`` name, in plugin order."""
    from . import ConfigError

    found, seen = [], {}
    for impl in reversed(pm.hook.plugin_settings.get_hookimpls()):  # the hook's own call order
        for decl in impl.function() or ():
            decl = {**setting(decl["name"], decl.get("default"), decl.get("description", "")), **decl,
                    "plugin": impl.plugin_name}
            if not NAME_RE.match(decl["name"]) or decl["type"] not in TYPES:
                raise ConfigError(f"The plugin {impl.plugin_name} declares a setting with a bad name or type: "
                                  f"{decl['name']!r} ({decl['type']!r}).")
            if decl["name"] in seen:
                raise ConfigError(f"PORTAL_{decl['name']} is declared by both {seen[decl['name']]} and "
                                  f"{impl.plugin_name}.")
            seen[decl["name"]] = impl.plugin_name
            found.append(decl)
    return found


def apply_settings(app, pm) -> list[dict]:
    """Fill each declared setting's default into ``app.config`` (a copy, so nobody edits the declaration)
    and check the values given; ConfigError names the first wrong one."""
    declarations = collect(pm)
    for decl in declarations:
        if decl["name"] in app.config:
            app.config[decl["name"]] = coerce(decl, app.config[decl["name"]])
        else:
            app.config[decl["name"]] = copy.deepcopy(decl["default"])
    app.extensions["portal_settings"] = declarations
    return declarations


def shown_value(decl: dict, value) -> str:
    """The value as the admin's plugins page shows it (inside a ``<bdi>``): secrets only say whether they
    are set."""
    from flask_babel import gettext as _

    if decl["secret"]:
        return _("set") if value not in (None, "") else _("not set")
    if value is None or value == "":
        return _("not set")
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    if isinstance(value, dict):
        import json

        return json.dumps(value, ensure_ascii=False)
    return str(value)
