"""Sila (صلة): the beneficiary-relations portal. ``create_app`` builds the Flask application."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask, g, request, session
from flask_babel import Babel
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx

from .hookspecs import hookimpl  # noqa: F401  (re-exported for plugins: ``from portal import hookimpl``)

__all__ = ["create_app", "hookimpl", "csrf", "login_manager", "LANGUAGES", "ConfigError"]

PACKAGE_DIR = Path(__file__).resolve().parent
LANGUAGES = ("ar", "en")
INSECURE_KEYS = {"", "dev", "change-me", "changeme", "secret"}


class ConfigError(RuntimeError):
    """The settings do not allow the portal to start (the message says what to change)."""


csrf = CSRFProtect()
login_manager = LoginManager()
htmx = Htmx()


def resource_dir(name: str) -> Path:
    """Installed wheels carry ``portal/<name>``; a source checkout has ``<repo>/<name>``."""
    inside = PACKAGE_DIR / name
    return inside if inside.is_dir() else PACKAGE_DIR.parent / name


def _defaults(app: Flask) -> dict:
    instance = Path(app.instance_path)
    return {
        "SECRET_KEY": None,
        "DATABASE_URL": f"sqlite:///{instance / 'portal.sqlite3'}",
        "UPLOAD_DIR": str(instance / "uploads"),
        "DATABASE_POOL": True,
        "DATABASE_POOL_SIZE": 20,
        "REDIS_URL": None,
        "PLUGINS": "all",
        "HTTPS": False,
        "MAX_UPLOAD_MB": 10,
        "ORG_NAME_AR": "جمعية مراكز الأحياء بمنطقة مكة المكرمة",
        "ORG_NAME_EN": "Neighbourhood Centres Association, Makkah Region",
        "ORG_REGISTRATION": "262",
        "TIMELINE_PAGE_SIZE": 20,
        "DEFAULT_CHANNEL": "",
        "SEARCH_LIMIT": 50,
        "PRIVACY_RETENTION_YEARS": 10,
        "AUDIT_PAGE_SIZE": 50,
        "AUDIT_EXPORT_LIMIT": 100000,
        "IMPORT_INLINE_ROWS": 2000,
        "QUIET_HOURS": "22:00-08:00",
        "HUEY_IMMEDIATE": False,
        "WORKER_STALE_MINUTES": 5,
        "RESEARCH_DAYS": 7,
        "RATELIMIT_LOGIN": "10 per minute",
        "SESSION_IDLE_MINUTES": 30,
        "REMEMBER_DAYS": 14,
        "LOGIN_MAX_FAILURES": 5,
        "LOGIN_LOCKOUT_MINUTES": 15,
        "PASSWORD_MIN_LENGTH": 10,
        "API_TOKEN_DAYS": 90,
        "TRUSTED_PROXIES": 0,
        "WORKERS": None,
        "HSTS_SECONDS": 31536000,
        "BABEL_DEFAULT_LOCALE": "ar",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Riyadh",
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "MAX_CONTENT_LENGTH": None,
    }


def load_config(app: Flask, test_config: dict | None) -> None:
    """Defaults, then ``instance/config.py``, then ``PORTAL_*`` environment variables, then test_config."""
    app.config.update(_defaults(app))
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("PORTAL")
    if test_config:
        app.config.update(test_config)
    key = app.config.get("SECRET_KEY")
    if not key or key in INSECURE_KEYS:
        if app.debug or app.testing:
            app.config["SECRET_KEY"] = key or secrets.token_hex(32)
        else:
            raise ConfigError(
                "PORTAL_SECRET_KEY is missing or a default value. Set it in the environment or in "
                f"{Path(app.instance_path) / 'config.py'} (SECRET_KEY = '...'); `make run` writes one for you."
            )
    from .quiet import parse as parse_quiet_hours

    try:
        parse_quiet_hours(app.config["QUIET_HOURS"])
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if app.config["HTTPS"]:
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_CONTENT_LENGTH"] or (
        int(app.config["MAX_UPLOAD_MB"]) * 1024 * 1024 * 5 + 1024 * 1024
    )


def select_locale() -> str:
    from flask import has_request_context

    if not has_request_context():
        return "ar"
    lang = request.args.get("lang") or request.cookies.get("lang") or session.get("lang")
    if lang in LANGUAGES:
        return lang
    return "ar"


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_relative_config=True,
        instance_path=os.environ.get("PORTAL_INSTANCE_PATH") or None,
        template_folder=str(resource_dir("templates")),
        static_folder="static",
    )
    load_config(app, test_config)
    os.makedirs(app.instance_path, exist_ok=True)

    from . import db, plugins, settings

    pm = plugins.build_plugin_manager(app.config["PLUGINS"], extra=app.config.get("EXTRA_PLUGINS", ()))
    app.extensions["portal_pm"] = pm
    settings.apply_settings(app, pm)  # every plugin's declared defaults, each value checked
    db.init_app(app)

    translation_dirs = [str(PACKAGE_DIR / "translations")]
    for name, module in pm.list_name_plugin():
        module_dir = Path(getattr(module, "__file__", "") or "").parent
        if (module_dir / "translations").is_dir() and str(module_dir) != str(PACKAGE_DIR):
            translation_dirs.append(str(module_dir / "translations"))
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(translation_dirs)
    # One Babel per app: Flask-Babel caches loaded catalogs on the Babel object, so apps with different
    # plugins (and so different catalogs) in one process would otherwise share the first one's.
    Babel(app, locale_selector=select_locale)
    csrf.init_app(app)
    htmx.init_app(app)
    login_manager.init_app(app)

    from . import hygiene

    hygiene.init_app(app)

    from . import (
        account,  # noqa: F401  (the account screens go on auth.bp)
        admin, api, assets, audit_views, auth, beneficiaries, dashboard, jobs, limiter, outbox, privacy_views,
        templating, timeline, timeline_views,  # noqa: F401  (timeline_views puts the timeline's pages on timeline.bp)
    )

    limiter.init_app(app)
    limiter.warn_about_workers(app)
    jobs.init_app(app)
    from . import health  # noqa: F401  (declares the heartbeat task)

    templating.init_app(app)
    auth.init_app(app)
    from . import imports_views, reports_views  # reports_views also declares the monthly report's task

    for module in (dashboard, assets, auth, beneficiaries, timeline, admin, audit_views, privacy_views, outbox, api,
                   imports_views, reports_views):
        app.register_blueprint(module.bp)
    csrf.exempt(api.bp)

    from . import cli

    cli.register(app)

    plugin_blueprints = app.extensions["portal_plugin_blueprints"] = {}  # plugin name -> its blueprints' names
    for impl in reversed(pm.hook.register_blueprints.get_hookimpls()):  # the hook's own call order
        result = impl.function(*([app] if impl.argnames else []))
        for blueprint in result if isinstance(result, (list, tuple)) else [result]:
            if blueprint is not None:
                app.register_blueprint(blueprint)
                plugin_blueprints.setdefault(impl.plugin_name, []).append(blueprint.name)

    proxies = int(app.config["TRUSTED_PROXIES"] or 0)
    if proxies > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # The client address (rate limits, audit) and the scheme come from the last ``proxies`` hops of
        # X-Forwarded-For / X-Forwarded-Proto; with 0 (the default) those headers are ignored.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)

    @app.after_request
    def _headers(response):
        response.headers.add("Vary", "HX-Request")
        if app.config["HTTPS"] and app.config["HSTS_SECONDS"]:
            response.headers.setdefault("Strict-Transport-Security", f"max-age={int(app.config['HSTS_SECONDS'])}")
        if not auth._is_asset_request():
            # Staff pages, the API and downloads hold personal data: never kept by browsers or proxies.
            response.headers["Cache-Control"] = "no-store"
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'self'",
        )
        return response

    @app.before_request
    def _request_start():
        g.audit_ip = request.remote_addr or ""  # the real client address when PORTAL_TRUSTED_PROXIES is set
        # Flask-Babel caches the locale on the app context; a request that shares one (a test client
        # inside ``with app.app_context()``) must still choose its own language.
        from flask_babel import refresh

        refresh()

    return app
