"""The workflow's built-in hook implementations (a core plugin, like ``portal.default_hooks``)."""
from __future__ import annotations

from ..hookspecs import hookimpl  # noqa: F401
