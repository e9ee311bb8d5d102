"""Input hygiene at one gate, for every screen, webhook and API call.

- ``HygienicRequest`` (the app's request class) strips NUL and other control characters from every query
  parameter, form field and JSON string (keys too) before a view sees them; tab, newline and carriage
  return are kept for multi-line fields. PostgreSQL refuses NUL in text, and no typed text needs controls.
- ``int`` URL segments are bounded to what the database's integer ids hold (a larger one is a 404), and
  ``parse_int``/``page_arg`` read numbers typed in queries and forms with bounds: huge values never
  reach SQL (SQLite overflows at 2**63, PostgreSQL's ``integer`` at 2**31).
- App-wide answers instead of a 500: ``peewee.IntegrityError`` (two writes racing on a unique value) is a
  409, a value the database cannot hold (``FieldTooLong``, ``peewee.DataError``, ``OverflowError``) a 422 or
  400, each after rolling back, as HTML, an htmx fragment or JSON for ``/api/`` and ``/webhooks/``.
"""
from __future__ import annotations

import logging

from flask import abort, json, jsonify, render_template, request
from flask_babel import gettext as _
from markupsafe import Markup, escape
from htmx_flask.requests import HtmxAwareRequest
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import IntegerConverter

from .db import FieldTooLong, database
from .text import fold_digits, strip_controls

log = logging.getLogger(__name__)

DB_INT_MAX = 2**31 - 1  # PostgreSQL ``integer`` (every id column); SQLite holds more
MAX_PAGE = 100_000

def clean_value(value):
    """Strip control characters from every string inside parsed JSON (object keys too)."""
    if isinstance(value, str):
        return strip_controls(value)
    if isinstance(value, dict):
        return {clean_value(k) if isinstance(k, str) else k: clean_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_value(v) for v in value]
    return value


def _clean_multidict(data):
    """Clean keys and values. A part whose name the parser could not read (werkzeug gives ``None`` for a
    multipart name such as a bare newline) names no field, so it is dropped."""
    return ImmutableMultiDict([(strip_controls(k), strip_controls(v)) for k, v in data.items(multi=True)
                               if isinstance(k, str) and isinstance(v, str)])


class _CleanJson:
    """Wraps the app's JSON provider (Flask sets ``request.json_module = app.json`` for each request) so
    that ``loads`` hands views clean strings."""

    def __init__(self, provider=None):
        self.provider = provider or json

    def loads(self, data, **kwargs):
        return clean_value(self.provider.loads(data, **kwargs))

    def dumps(self, obj, **kwargs):
        return self.provider.dumps(obj, **kwargs)


class HygienicRequest(HtmxAwareRequest):
    """htmx-flask's request (``request.htmx``) with clean query, form and JSON values."""

    @property
    def json_module(self):
        return self.__dict__.get("_clean_json") or _CleanJson()

    @json_module.setter
    def json_module(self, provider):
        self.__dict__["_clean_json"] = _CleanJson(provider)

    @property
    def args(self):
        cleaned = self.__dict__.get("_clean_args")
        if cleaned is None:
            cleaned = self.__dict__["_clean_args"] = _clean_multidict(super().args)
        return cleaned

    def _load_form_data(self) -> None:
        if "form" in self.__dict__:
            return
        super()._load_form_data()
        self.__dict__["form"] = _clean_multidict(self.__dict__["form"])


class BoundedIntegerConverter(IntegerConverter):
    """``<int:...>`` that matches only what an id column holds: ``/beneficiaries/99999999999999999999``
    is a 404, not an overflow in the database driver."""

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):  # noqa: A002 (werkzeug's names)
        super().__init__(map, fixed_digits, min, DB_INT_MAX if max is None else max, signed)


def get_or_404(model, *conditions):
    """The one row of ``model`` matching ``conditions``, or a 404 answer."""
    row = model.get_or_none(*conditions)
    if row is None:
        abort(404)
    return row


def parse_int(value, default=None, *, minimum: int = 0, maximum: int = DB_INT_MAX):
    """An integer typed in a query or a form (Arabic-Indic digits accepted), or ``default`` when the
    value is missing, not a whole number, or outside ``minimum``..``maximum``."""
    text = fold_digits(str(value if value is not None else "")).strip()
    negative = text.startswith("-")
    digits = text[1:] if negative else text
    if not digits.isascii() or not digits.isdigit() or len(digits) > 18:
        return default
    number = -int(digits) if negative else int(digits)
    return number if minimum <= number <= maximum else default


def page_arg(name: str = "page", maximum: int = MAX_PAGE) -> int:
    """The ``page`` query parameter: 1 when missing or not a number; a page past ``maximum`` is a 400."""
    text = fold_digits(request.args.get(name) or "").strip()
    if not (text.isascii() and text.isdigit()):
        return 1
    if len(text) > len(str(maximum)) or int(text) > maximum:
        abort(400)
    return max(1, int(text))


def _rollback() -> None:
    try:
        if not database.is_closed():
            database.connection().rollback()  # the driver's: a no-op when no transaction is open
    except Exception:  # noqa: BLE001 - the connection may already be gone; the answer matters more
        log.exception("rollback after a refused write failed")


def answer(code: int, message: str):
    """The error in the form the client reads: JSON for the API and webhooks, a fragment for htmx
    (placed at the top of ``<main>``), else the error page."""
    if request.path.startswith("/api/") or request.path.startswith("/webhooks/"):
        return jsonify({"error": message}), code
    if getattr(request, "htmx", None):
        fragment = Markup('<div class="flashes" role="alert"><p class="flash flash-error">%s</p></div>') % escape(message)
        return fragment, code, {"HX-Retarget": "#main", "HX-Reswap": "afterbegin"}
    return render_template("error.html", code=code, message=message), code


def init_app(app) -> None:
    """Install the gate. Call after htmx-flask (its request class is extended) and before any blueprint
    is registered (the ``int`` converter applies to the routes added after it)."""
    import peewee

    app.request_class = HygienicRequest
    app.url_map.converters["int"] = BoundedIntegerConverter

    @app.errorhandler(peewee.IntegrityError)
    def _integrity(exc):
        _rollback()
        log.warning("integrity error answered as 409 on %s: %s", request.path, exc)
        return answer(409, _("Someone else saved the same information at the same moment. Reload the page, "
                             "check what is there now and try again."))

    @app.errorhandler(FieldTooLong)
    def _too_long(exc):
        _rollback()
        log.warning("field too long on %s: %s", request.path, exc)
        return answer(422, _("A value is too long: at most %(n)s characters.", n=exc.limit))

    @app.errorhandler(peewee.DataError)
    def _data_error(exc):
        _rollback()
        log.warning("database refused a value on %s: %s", request.path, exc)
        return answer(422, _("A value is too long or out of range."))

    @app.errorhandler(OverflowError)
    def _overflow(exc):
        _rollback()
        log.warning("number out of range on %s: %s", request.path, exc)
        return answer(400, _("A number is out of range."))
