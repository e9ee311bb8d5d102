"""Template helpers: full page or named block for htmx, Hijri-beside-Gregorian dates, menus."""
from __future__ import annotations

import datetime as dt
import functools
import re
from collections import ChainMap

from flask import current_app, g, has_app_context, has_request_context, request, url_for
from flask_babel import get_locale, get_translations
from flask_babel import gettext as _
from flask_login import current_user
from jinja2 import BytecodeCache
from jinja2.utils import concat
from jinja2_fragments.flask import render_block
from markupsafe import Markup, escape

from . import dates
from .plugins import channel_map, channels, hook
from .text import FSI, PDI, TOKEN, isolate, isolate_tokens, strip_bidi_controls


def render(template: str, block: str | None = None, **context):
    """Render the whole page, or only ``block`` when htmx asks for a fragment.

    Boosted navigation (``HX-Boosted``) and history restores get the full page.
    """
    from flask import render_template

    if block and request.htmx and not request.htmx.boosted and not request.htmx.history_restore_request:
        return render_block(template, block, **context)
    return render_template(template, **context)


def render_fragment(template: str, **context) -> Markup:
    """``render_template`` for a piece drawn many times on one page (a timeline entry's body, by the core and by
    each channel's ``render_timeline_entry``): the context processors run once per request and language and their
    values are reused for every piece (``render_template`` runs them all for each one). Flask's template signals are not
    sent for the piece; the page around it sends them."""
    app = current_app._get_current_object()
    shared = _request_cached(("template_context", id(app), request_lang()), lambda: _processed_context(app), app)
    compiled = app.jinja_env.get_template(template)
    # What ``Template.render`` does, without copying the shared values (and the globals) into a new dict per piece.
    values = ChainMap(context, shared, compiled.globals)
    try:
        return Markup(concat(compiled.root_render_func(compiled.new_context(values, shared=True))))  # nosec B704 # an autoescaped template's output
    except Exception:  # noqa: BLE001 - re-raised by Jinja with the template's lines in the traceback
        compiled.environment.handle_exception()
        raise


def _processed_context(app) -> dict:
    values: dict = {}
    app.update_template_context(values)
    return values


def date_filter(value, with_time: bool = False):
    """``<time>`` with the Hijri date first and the Gregorian beside it.

    Datetimes are stored as naive UTC; they are shown on the Saudi calendar day (a contact at
    22:30 UTC is the next morning in Riyadh), with the time when ``with_time``.
    """
    if not value:
        return ""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    time_part = ""
    if isinstance(value, dt.datetime):
        local = dates.to_saudi(value)
        day = local.date()
        iso = local.replace(microsecond=0, tzinfo=dates.SAUDI_TZ).isoformat()
        if with_time:
            time_part = f' <span class="time"><bdi>{local:%H:%M}</bdi></span>'
    else:
        day = value
        iso = value.isoformat()
    return Markup(f'<time datetime="{escape(iso)}">{_day_html(day, request_lang())}{time_part}</time>')  # nosec B704 # _day_html escapes; iso is escaped, time_part is digits


@functools.lru_cache(maxsize=8192)
def _day_html(day: dt.date, lang: str) -> str:
    """The inside of a date's ``<time>``: Hijri then Gregorian, each isolated; Gregorian alone outside the Umm
    al-Qura table (1924-2077). A page shows the same few days many times and the conversion is a pure function
    of the day and the language, so it is kept for the process."""
    greg = escape(dates.format_gregorian(day, lang))
    try:
        hijri = dates.format_hijri(day, lang)
    except (OverflowError, ValueError):
        return f'<bdi class="greg">{greg}</bdi>'
    return f'<bdi class="hijri">{escape(hijri)}</bdi> <span class="sep">·</span> <bdi class="greg">{greg}</bdi>'


def _per_locale(name: str, compute):
    """``compute()`` kept on flask-babel's context of this application context, per locale object: flask-babel
    looks the locale up on every call (hundreds per page), and a forced locale (``force_locale``) is a new
    object, so it gets its own value. Outside an application context nothing is kept."""
    ctx = getattr(g, "_flask_babel", None) if has_app_context() else None
    locale = getattr(ctx, "babel_locale", None)
    cached = getattr(ctx, name, None) if ctx is not None else None
    if locale is not None and cached is not None and cached[0] is locale:
        return cached[1]
    value = compute()
    if ctx is not None:
        setattr(ctx, name, (getattr(ctx, "babel_locale", None), value))
    return value


def request_lang() -> str:
    """The language of the current request (``ar`` or ``en``), asked of flask-babel once per locale object."""
    return _per_locale("_sila_lang", dates._lang)


def cached_translations():
    """The current translations, kept per request and locale object (flask-babel looks up the domain, the
    locale and the translations on every call)."""
    return _per_locale("_sila_translations", get_translations)


def phone_filter(value, link: bool = True):
    """A phone number, isolated left to right; for staff a ``tel:`` link and, for an international
    (E.164) number, a WhatsApp link (``https://wa.me/<digits>``). ``link=False`` where a link cannot
    sit (inside a button) or the reader is not staff."""
    if not value:
        return ""
    return _phone_html(str(value), bool(link), request_lang())


@functools.lru_cache(maxsize=4096)
def _phone_html(value: str, link: bool, lang: str) -> Markup:
    """The filter's markup for one number, kept for the process: it depends only on the number, the choice of
    links and the language (whose catalogue is read once), so a changed number is a new key."""
    shown = value
    if value.startswith("+966") and len(value) == 13 and value[4:].isdigit() and value[4:].isascii():
        local = "0" + value[4:]
        shown = f"{local[:3]} {local[3:6]} {local[6:]}"
    if not link:
        return Markup('<bdi dir="ltr">%s</bdi>') % shown
    digits = value[1:] if value.startswith("+") else value
    if not (digits.isdigit() and digits.isascii()):
        return Markup('<bdi dir="ltr">%s</bdi>') % shown
    html = Markup('<span class="phone"><bdi dir="ltr"><a href="tel:%s">%s</a></bdi>') % (value, shown)
    if value.startswith("+") and len(digits) >= 8:
        tr = cached_translations()
        html += Markup(' <a class="wa" href="https://wa.me/%s" rel="noopener noreferrer" target="_blank"'
                       ' aria-label="%s">%s</a>') % (digits, tr.ugettext("WhatsApp %(number)s") % {"number": "\u2068" + shown + "\u2069"},
                                                   tr.ugettext("WhatsApp"))
    return html + Markup("</span>")


def bdi_filter(value, direction: str = "ltr"):
    """``{{ ref|bdi }}``: a reference, ID, phone number, amount, e-mail, URL or date pattern isolated
    left to right inside the sentence around it (``<bdi dir="ltr">``). ``{{ typed|bdi("auto") }}``:
    text typed by someone (a search echoed back), isolated in its own direction with its tokens
    isolated left to right. Empty stays empty."""
    if value is None or value == "":
        return ""
    if direction == "auto":
        return Markup('<bdi dir="auto">%s</bdi>') % bidi_tokens(value)
    return Markup('<bdi dir="ltr">%s</bdi>') % value


def bidi_tokens(value):
    """Plain text escaped, with every reference-, phone-, ID-, amount- or date-shaped token in it
    wrapped in ``<bdi dir="ltr">`` (flash messages, search echoes, stored summaries). Markup passes
    unchanged; a token already between FSI and PDI is wrapped without them."""
    if value is None:
        return ""
    if isinstance(value, Markup):  # a translated message: its text between the tags, outside any <bdi>
        parts, depth = [], 0
        for piece in _TAGS.split(str(value)):
            if piece.startswith("<"):
                name = piece[1:].split(None, 1)[0].rstrip(">/").lower() if len(piece) > 2 else ""
                depth += 1 if name == "bdi" else -1 if name == "/bdi" else 0
                parts.append(piece)
            else:
                parts.append(piece if depth > 0 else _wrap_tokens(piece, Markup))
        return Markup("".join(parts))  # nosec B704 # the pieces come from markup; only <bdi> tags are added
    return _wrap_tokens(str(value), escape)


_TAGS = re.compile(r"(<[^>]*>)")


def _wrap_tokens(text: str, escape_piece) -> str:
    out, last = [], 0
    for match in TOKEN.finditer(text):
        start, end = match.start(), match.end()
        if start and text[start - 1] == FSI and text[end:end + 1] == PDI:
            start, end = start - 1, end + 1
        out.append(escape_piece(text[last:start]))
        out.append(Markup('<bdi dir="ltr">') + escape_piece(match.group(0)) + Markup("</bdi>"))
        last = end
    out.append(escape_piece(text[last:]))
    return Markup("").join(out)


def isolate_tokens_filter(value):
    """``{% filter isolate_tokens %}``: FSI ... PDI around the tokens of a text that cannot hold
    markup (the page title). Escaped markup stays escaped (no token contains ``&`` or ``;``)."""
    if value is None:
        return ""
    if isinstance(value, Markup):
        return Markup(isolate_tokens(str(value)))  # nosec B704 # already escaped markup; only FSI/PDI are added
    return isolate_tokens(str(value))


def safe_text(value):
    """Untrusted text: escaped, direction overrides removed, line breaks kept, references, phone
    numbers, IDs and dates isolated (``bidi_tokens``), the whole in ``<bdi dir="auto">`` so that it
    reads in the direction of its own first letter."""
    if value is None or value == "":
        return ""
    text = bidi_tokens(strip_bidi_controls(str(value)))
    # dir="auto": an English note on an Arabic page (and the reverse) reads in its own direction.
    return Markup('<bdi dir="auto">%s</bdi>' % str(text).replace("\n", "<br>"))  # nosec B704 # bidi_tokens escaped the text; only <bdi> and <br> are added


def channel_label(key: str) -> str:
    """A channel's name in the request's language. The channels (a hook over every plugin) are asked once per
    request and language, not once per timeline entry."""
    names = _request_cached(("channel_labels", request_lang()), _channel_labels)
    if key in names:
        return names[key]
    return _("System") if key == "system" else key


def _channel_labels() -> dict[str, str]:
    lang = "label_ar" if request_lang() == "ar" else "label_en"
    return {key: info[lang] for key, info in channel_map().items()}


def label_names(table: dict) -> dict:
    """``table`` (code -> lazy label, ``portal.labels``) with its labels translated once for this request and
    language, for a template that shows a label per row: ``{% set category = label_names(labels.CATEGORY) %}``
    then ``labels.label(category, b.category)``. The text is what the lazy label draws (its ``__html__``)."""
    return _request_cached(("label_names", id(table), request_lang()), lambda: {
        code: Markup(text.__html__()) if hasattr(text, "__html__") else text  # nosec B704 # the lazy label's own __html__
        for code, text in table.items()}, table)


def _request_cached(key, compute, owner=None):
    """``compute()`` kept on ``g`` for the rest of the request under ``key``; ``owner`` (the object an id in the
    key belongs to) is checked so that a reused id is never taken for the old object. Outside an application
    context nothing is kept."""
    if not has_app_context():
        return compute()
    cache = g.setdefault("_sila_render_cache", {})
    found = cache.get(key)
    if found is not None and found[0] is owner:
        return found[1]
    value = compute()
    cache[key] = (owner, value)
    return value


def url_pattern(endpoint: str, name: str, **values):
    """A function of one integer that gives ``url_for(endpoint, name=that, **values)``, the URL built once: a
    list links each row to the same endpoint and werkzeug's URL building costs more than the row's text."""
    marker = 987654321987654321
    url = url_for(endpoint, **values, **{name: marker})
    head, sep, tail = url.partition(str(marker))
    if not sep or str(marker) in tail:
        return lambda value: url_for(endpoint, **values, **{name: value})

    def build(value):
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"url_pattern: {name} must be an integer, not {type(value).__name__}")
        return f"{head}{value}{tail}"
    return build


def page_notices() -> list[Markup]:
    """The ``page_notices`` hook's fragments for the signed-in user (none for a visitor).

    Called by ``base.html`` only, so htmx fragments and pages of other layouts never run the hook."""
    if not current_user.is_authenticated:
        return []
    fragments = []
    for group in hook().page_notices(user=current_user._get_current_object(), request=request):
        for fragment in group or ():
            if fragment:
                fragments.append(escape(fragment))  # Markup passes unchanged; a plain string is escaped
    return fragments


def plugin_actions(kind: str, obj) -> dict:
    """The ``beneficiary_actions`` / ``case_actions`` hooks' answers for ``obj``, split for the page:
    ``{"actions": [...], "panels": [Markup, ...]}``, each sorted by its ``order`` (then by plugin).

    A panel given as a plain string is escaped; an action without a label or an href is dropped."""
    if not current_user.is_authenticated:
        return {"actions": [], "panels": []}
    user = current_user._get_current_object()
    if kind == "beneficiary":
        groups = hook().beneficiary_actions(beneficiary=obj, user=user)
    elif kind == "case":
        groups = hook().case_actions(case=obj, user=user)
    else:
        raise ValueError(f"unknown kind of page: {kind!r}")
    actions, panels = [], []
    for group in groups:
        for item in group or ():
            if not isinstance(item, dict):
                continue
            order = item.get("order", 100)
            if item.get("panel"):
                panels.append((order, len(panels), escape(item["panel"])))
            elif item.get("label") and item.get("href"):
                actions.append((order, len(actions), item))
    return {"actions": [a for *_, a in sorted(actions, key=lambda t: t[:2])],
            "panels": [p for *_, p in sorted(panels, key=lambda t: t[:2])]}


class _MemoryBytecodeCache(BytecodeCache):
    """Compiled templates shared by every app in the process (checked against the source's checksum)."""

    def __init__(self):
        self._store: dict[str, bytes] = {}

    def load_bytecode(self, bucket):
        data = self._store.get(bucket.key)
        if data is not None:
            bucket.bytecode_from_string(data)

    def dump_bytecode(self, bucket):
        self._store[bucket.key] = bucket.bytecode_to_string()


_BYTECODE_CACHE = _MemoryBytecodeCache()


def init_app(app):
    app.jinja_env.bytecode_cache = _BYTECODE_CACHE
    app.jinja_env.filters["date"] = date_filter
    app.jinja_env.filters["datetime"] = lambda v: date_filter(v, with_time=True)
    app.jinja_env.filters["phone"] = phone_filter
    app.jinja_env.filters["untrusted"] = safe_text
    app.jinja_env.filters["bdi"] = bdi_filter
    app.jinja_env.filters["bidi_tokens"] = bidi_tokens
    app.jinja_env.filters["isolate"] = isolate
    app.jinja_env.filters["isolate_tokens"] = isolate_tokens_filter
    app.jinja_env.globals["channel_label"] = channel_label
    app.jinja_env.globals["label_names"] = label_names
    app.jinja_env.globals["url_pattern"] = url_pattern
    app.jinja_env.globals["page_notices"] = page_notices
    app.jinja_env.globals["plugin_actions"] = plugin_actions
    app.jinja_env.add_extension("jinja2.ext.do")
    from . import labels

    app.jinja_env.globals["labels"] = labels

    _translations = cached_translations
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
        newstyle=True,
    )

    @app.context_processor
    def _globals():
        lang = str(get_locale() or "ar")
        # Once per request and language: a timeline page renders a template per entry, and each render
        # would otherwise ask every plugin for its menu links again.
        cache = g.setdefault("_template_globals", {}) if has_request_context() else {}
        key = (lang, current_user.get_id() if current_user else None)
        if key not in cache:
            cache[key] = _compute_globals(lang)
        return cache[key]

    def _compute_globals(lang: str) -> dict:
        links = []
        if current_user.is_authenticated:
            for group in hook().menu_links(user=current_user, request=request):
                links.extend(group or [])
        return {
            "lang": lang,
            "text_dir": "rtl" if lang == "ar" else "ltr",
            # Arrows of a change (old -> new) and of a way back, in the reading direction.
            "arrow": "←" if lang == "ar" else "→",
            "back_arrow": "→" if lang == "ar" else "←",
            "other_lang": "en" if lang == "ar" else "ar",
            "menu": links,
            "all_channels": channels,
            "org_name": current_app.config["ORG_NAME_AR"] if lang == "ar" else current_app.config["ORG_NAME_EN"],
            "today": dt.date.today(),
        }

    from flask_wtf.csrf import CSRFError

    messages = {
        400: lambda: _("The request could not be understood."),
        403: lambda: _("You do not have access to this page."),
        404: lambda: _("This page does not exist."),
        405: lambda: _("This action is not allowed here."),
        413: lambda: _("The file is too large."),
        429: lambda: _("Too many attempts. Please wait a minute and try again."),
        503: lambda: _("The service is busy right now. Please wait a few seconds and try again."),
    }

    def error_page(code: int, message: str):
        from flask import jsonify, render_template

        if request.path.startswith("/api/") or request.path.startswith("/webhooks/"):
            return jsonify({"error": message}), code
        return render_template("error.html", code=code, message=message), code

    for code, message in messages.items():
        app.register_error_handler(code, lambda e, code=code, message=message: error_page(code, message()))

    @app.errorhandler(CSRFError)
    def _csrf(e):
        return error_page(
            400, _("The form expired or was sent from elsewhere. Please go back, reload the page and try again.")
        )

    app.jinja_env.globals["url_for"] = url_for
