"""The complaints register's hook implementations (a core plugin, registered like ``portal.workflow.hooks``):
its settings."""
from __future__ import annotations

from ..hookspecs import hookimpl


@hookimpl
def plugin_settings():
    from flask_babel import lazy_gettext as _l

    from ..settings import setting

    return [
        setting("COMPLAINT_RESPONSE_DAYS", {"complaint": 5, "suggestion": 10, "praise": 10, "inquiry": 3},
                _l("Working days (Friday and Saturday off) to answer each kind of feedback in the complaints "
                   "register: complaint, suggestion, praise, inquiry."), type="json"),
    ]
