"""Rate limits: in memory for one process, Redis when ``PORTAL_REDIS_URL`` is set.

The key is the client address as werkzeug sees it: behind a reverse proxy set ``PORTAL_TRUSTED_PROXIES`` so
it is the visitor's address (from X-Forwarded-For), not the proxy's."""
from __future__ import annotations

import logging
import os
import re
import shlex
import sys

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

limiter = Limiter(key_func=get_remote_address, default_limits=[])
log = logging.getLogger("portal")

_WORKERS_ARG = re.compile(r"^(?:-w|--workers)(?:=)?(\d+)$")


def _workers_in(args: list[str]) -> int | None:
    for i, arg in enumerate(args):
        match = _WORKERS_ARG.match(arg)
        if match:
            return int(match.group(1))
        if arg in ("-w", "--workers") and i + 1 < len(args) and args[i + 1].isdigit():
            return int(args[i + 1])
    return None


def detected_workers(config, environ=None, argv=None) -> tuple[int | None, str]:
    """How many worker processes serve the app, and where that was read.

    What can be seen from inside a process: the ``PORTAL_WORKERS`` setting, ``WEB_CONCURRENCY`` (gunicorn's
    default worker count), ``-w``/``--workers`` in ``GUNICORN_CMD_ARGS`` or on gunicorn's own command line
    (workers are forked from it, so they share its ``sys.argv``). A count set only in a gunicorn
    configuration file, or another server's process model, cannot be seen: set ``PORTAL_WORKERS`` then."""
    environ = os.environ if environ is None else environ
    argv = sys.argv if argv is None else argv
    if config.get("WORKERS"):
        return int(config["WORKERS"]), "PORTAL_WORKERS"
    if argv and "gunicorn" in os.path.basename(argv[0] or ""):
        found = _workers_in(list(argv[1:]))
        if found:
            return found, "gunicorn command line"
    try:
        found = _workers_in(shlex.split(environ.get("GUNICORN_CMD_ARGS", "")))
    except ValueError:
        found = None
    if found:
        return found, "GUNICORN_CMD_ARGS"
    if str(environ.get("WEB_CONCURRENCY", "")).isdigit():
        return int(environ["WEB_CONCURRENCY"]), "WEB_CONCURRENCY"
    return None, ""


def warn_about_workers(app, environ=None, argv=None) -> bool:
    """Log a warning when several workers count rate limits each in its own memory; True if warned."""
    if not str(app.config.get("RATELIMIT_STORAGE_URI", "")).startswith("memory://"):
        return False
    workers, source = detected_workers(app.config, environ, argv)
    if workers and workers > 1:
        log.warning(
            "%s workers (from %s) keep rate limits in memory, each its own count: a visitor gets %s times the "
            "limits. Set PORTAL_REDIS_URL so the workers share them.", workers, source, workers)
        return True
    return False


def init_app(app):
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter.init_app(app)
