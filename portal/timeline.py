"""The unified timeline: every channel writes here through ``log_entry`` (one entry),
``create_entries`` (a bulk import) and ``update_entry`` / ``update_entries`` (changes); nothing else
writes ``TimelineEntry`` (``tests/test_contract.py`` checks it). Pages are keyset-paginated."""
from __future__ import annotations

import datetime as dt
import logging

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from peewee import JOIN
from wtforms.fields.choices import SelectChoice
from wtforms import DateTimeLocalField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Optional, ValidationError as WTFValidationError

from . import stats
from .audit import audit
from .auth import CONTACT_ROLES, roles_required
from .dates import parse_date
from .hygiene import get_or_404, parse_int
from .db import bulk_insert, database, utcnow
from .models import DIRECTIONS, Attachment, Beneficiary, Case, TimelineEntry, User
from .plugins import channel_map, channels, hook
from .validators import ValidationError, max_length

bp = Blueprint("timeline", __name__)
log = logging.getLogger(__name__)


# Changing one of these moves an entry between the per-day contact counts (portal.stats).
COUNTED_FIELDS = {"occurred_at", "channel", "direction"}
MARKED_FIELDS = {"channel", "direction", "data"}  # what the ``undelivered`` mark is computed from


class UnknownChannel(ValueError):
    pass


def log_entry(*, channel: str, summary: str, beneficiary=None, case=None, direction: str = "in",
              occurred_at=None, body: str = "", actor=None, data=None, follow_up_due=None) -> TimelineEntry:
    """Write one timeline entry in its own transaction (or the caller's) and tell the plugins."""
    if channel not in channel_map() and channel != "system":
        raise UnknownChannel(channel)
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}")
    with database.atomic():
        entry = TimelineEntry.create(
            beneficiary=beneficiary, case=case, channel=channel, direction=direction,
            occurred_at=occurred_at or utcnow(), summary=summary[:300], body=body or "", actor=actor,
            data=data, follow_up_due=follow_up_due, undelivered=stats.is_undelivered(channel, direction, data),
        )
        stats.add_contacts(stats.tally([(entry.occurred_at, channel, direction)]))
        hook().timeline_entry_created(entry=entry)
        audit("create", "timeline_entry", entry.id, {"channel": channel, "beneficiary": getattr(beneficiary, "id", None)},
              actor=actor)
    return entry


_ENTRY_DEFAULTS = {"case": None, "direction": "in", "body": "", "actor": None, "data": None, "follow_up_due": None,
                   "follow_up_done": False}


def _check_channel_and_direction(channel, direction) -> None:
    if channel is not None and channel not in channel_map() and channel != "system":
        raise UnknownChannel(channel)
    if direction is not None and direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}")


def create_entries(rows: list[dict], *, actor=None) -> list[TimelineEntry]:
    """Write many timeline entries at once (a call-record import, demo data) in one transaction (or
    the caller's): one multi-row insert, one audit event, one ``timeline_entries_created`` call.

    :param rows: dicts of ``TimelineEntry`` field values, foreign keys as ids: ``channel``, ``summary``
        and ``occurred_at`` are required; the rest take the model's defaults.
    :param actor: who imports, for the audit log (each row's own ``actor`` is who made the contact).
    :return: the new entries (with their ids), in no particular order.
    """
    if not rows:
        return []
    now = utcnow()
    names = [name for name in TimelineEntry._meta.sorted_field_names if name != "id"]
    prepared = []
    checked = set()  # (channel, direction) pairs already known good: the channel list is asked for once
    for row in rows:
        unknown = set(row) - set(names)
        if unknown:
            raise ValueError(f"not TimelineEntry fields: {', '.join(sorted(unknown))}")
        missing = {"channel", "summary", "occurred_at"} - set(row)
        if missing:
            raise ValueError(f"missing: {', '.join(sorted(missing))}")
        values = {**_ENTRY_DEFAULTS, "beneficiary": None, "created_at": now, **row}
        pair = (values["channel"], values["direction"])
        if pair not in checked:
            _check_channel_and_direction(*pair)
            checked.add(pair)
        values["summary"] = (values["summary"] or "")[:300]
        values["undelivered"] = stats.is_undelivered(values["channel"], values["direction"], values["data"])
        prepared.append({name: values[name] for name in names})
    with database.atomic():
        # The ids of one multi-row insert are handed out in the order of its rows (the write lock is held),
        # so the sorted ids pair with the rows; the entries are built from the values already in hand.
        ids = sorted(i for (i,) in bulk_insert(TimelineEntry, prepared, returning=("id",)))
        entries = []
        for entry_id, values in zip(ids, prepared):
            entry = TimelineEntry.__new__(TimelineEntry)
            entry.__data__, entry._dirty, entry.__rel__ = {"id": entry_id, **values}, set(), {}
            entries.append(entry)
        stats.add_contacts(stats.tally((e.occurred_at, e.channel, e.direction) for e in entries))
        ids = sorted(e.id for e in entries)
        audit("create", "timeline_entries", ids[0], {
            "count": len(ids), "channels": sorted({e.channel for e in entries}), "ids": ids}, actor=actor)
        hook().timeline_entries_created(entries=entries)
    return entries


def _changed_values(changes: dict) -> dict:
    unknown = set(changes) - set(TimelineEntry._meta.fields) or ({"id"} & set(changes))
    if unknown:
        raise ValueError(f"not changeable TimelineEntry fields: {', '.join(sorted(unknown))}")
    _check_channel_and_direction(changes.get("channel"), changes.get("direction"))
    if "summary" in changes:
        changes = {**changes, "summary": (changes["summary"] or "")[:300]}
    return changes


def update_entry(entry, *, by=None, **changes) -> TimelineEntry | None:
    """Change fields of one timeline entry in one transaction (or the caller's): the row, an audit
    event naming the changed fields, and ``timeline_entry_updated``. The only way, with
    ``update_entries``, to change an entry.

    :param entry: the ``TimelineEntry`` (its attributes are updated in place) or its id.
    :param by: who makes the change, for the audit log (default: the signed-in user, if any). Named
        ``by`` because ``actor`` is a field of the entry.
    :param changes: field name -> new value (foreign keys as model or id).
    :return: the entry, or None when an id names no entry.
    """
    if not isinstance(entry, TimelineEntry):
        entry = TimelineEntry.get_or_none(TimelineEntry.id == entry)
        if entry is None:
            return None
    if not changes:
        return entry
    changes = _changed_values(changes)
    row = dict(changes)
    if MARKED_FIELDS & set(changes):  # the dashboard's mark follows the data, in the same UPDATE
        row["undelivered"] = stats.is_undelivered(*(changes.get(name, getattr(entry, name))
                                                    for name in ("channel", "direction", "data")))
    with database.atomic():
        TimelineEntry.update(row).where(TimelineEntry.id == entry.id).execute()
        counted = COUNTED_FIELDS & set(changes)
        if counted:
            old = (entry.occurred_at, entry.channel, entry.direction)  # the values before the change
            new = tuple(changes.get(name, value) for name, value in zip(("occurred_at", "channel", "direction"), old))
            stats.add_contacts(stats.tally([old]), sign=-1)
            stats.add_contacts(stats.tally([new]))
        for name, value in row.items():
            setattr(entry, name, value)
        entry._dirty.clear()
        audit("update", "timeline_entry", entry.id, {"fields": sorted(changes)}, actor=by)
        hook().timeline_entry_updated(entry=entry, changes=changes)
    return entry


def update_entries(condition, *, by=None, **changes) -> int:
    """Change the same fields of every entry matching ``condition`` (a peewee expression on
    ``TimelineEntry``, e.g. ``TimelineEntry.beneficiary == ben``) in one transaction: one update, one
    audit event with the ids, and ``timeline_entry_updated`` for each changed entry. Returns how many."""
    changes = _changed_values(changes)
    if not changes:
        return 0
    with database.atomic():
        rows = list(TimelineEntry.select(TimelineEntry.id, TimelineEntry.occurred_at, TimelineEntry.channel,
                                         TimelineEntry.direction).where(condition).tuples())
        ids = [row[0] for row in rows]
        if not ids:
            return 0
        TimelineEntry.update(changes).where(TimelineEntry.id.in_(ids)).execute()
        if MARKED_FIELDS & set(changes):
            _mark_undelivered(ids)
        if COUNTED_FIELDS & set(changes):
            old = [row[1:] for row in rows]
            new = [tuple(changes.get(name, value) for name, value in zip(("occurred_at", "channel", "direction"),
                                                                          row)) for row in old]
            stats.add_contacts(stats.tally(old), sign=-1)
            stats.add_contacts(stats.tally(new))
        audit("update", "timeline_entries", ids[0], {"fields": sorted(changes), "count": len(ids), "ids": ids},
              actor=by)
        updated = hook().timeline_entry_updated
        for start in range(0, len(ids), 500):
            for entry in TimelineEntry.select().where(TimelineEntry.id.in_(ids[start:start + 500])):
                updated(entry=entry, changes=changes)
    return len(ids)


def _mark_undelivered(ids: list[int]) -> None:
    """Set the ``undelivered`` mark of the entries ``ids`` from their (just changed) channel, direction, data."""
    marked = {True: [], False: []}
    for start in range(0, len(ids), 500):
        for entry_id, channel, direction, data, was in (
                TimelineEntry.select(TimelineEntry.id, TimelineEntry.channel, TimelineEntry.direction,
                                     TimelineEntry.data, TimelineEntry.undelivered)
                .where(TimelineEntry.id.in_(ids[start:start + 500])).tuples()):
            now = stats.is_undelivered(channel, direction, data)
            if now != bool(was):
                marked[now].append(entry_id)
    for flag, changed in marked.items():
        for start in range(0, len(changed), 500):
            (TimelineEntry.update(undelivered=flag).where(TimelineEntry.id.in_(changed[start:start + 500]))
             .execute())


def encode_cursor(entry: TimelineEntry) -> str:
    return f"{entry.occurred_at.isoformat()}_{entry.id}"


def decode_cursor(value: str | None):
    if not value:
        return None
    try:
        stamp, _sep, ident = value.rpartition("_")
        number = parse_int(ident)
        return (dt.datetime.fromisoformat(stamp), number) if number is not None else None
    except (ValueError, TypeError):
        return None


def entries_query():
    actor = User.alias()
    return (
        TimelineEntry.select(TimelineEntry, actor, Case)
        .join(actor, JOIN.LEFT_OUTER, on=(TimelineEntry.actor == actor.id), attr="actor")
        .switch(TimelineEntry)
        .join(Case, JOIN.LEFT_OUTER, on=(TimelineEntry.case == Case.id), attr="case")
    )


def load_entry(entry_id: int) -> TimelineEntry | None:
    rows = with_attachments(list(entries_query().where(TimelineEntry.id == entry_id)))
    return rows[0] if rows else None


def with_attachments(entries: list[TimelineEntry]) -> list[TimelineEntry]:
    """Each entry's ``attachments`` as a list, read in one query by the entries' ids (what peewee's ``prefetch``
    does, without compiling the page's query a second time as its subquery)."""
    by_entry: dict[int, list] = {entry.id: [] for entry in entries}
    if by_entry:
        for attachment in Attachment.select().where(Attachment.entry.in_(list(by_entry))).order_by(Attachment.id):
            by_entry[attachment.entry_id].append(attachment)
    for entry in entries:
        entry.attachments = by_entry[entry.id]
    return entries


def entries_page(*, beneficiary=None, channel=None, direction=None, before=None, limit=20, user=None):
    """One page of entries, newest first, with actor and case joined and attachments prefetched:
    three queries whatever the page size. Returns (entries, next_cursor). ``user``: leave out the
    entries of requests that user may not see (``portal.scope``)."""
    from .scope import entry_condition

    query = entries_query()
    if beneficiary is not None:
        query = query.where(TimelineEntry.beneficiary == beneficiary)
    hidden = entry_condition(user) if user is not None else None
    if hidden is not None:
        query = query.where(hidden)
    if channel:
        query = query.where(TimelineEntry.channel == channel)
    if direction:
        query = query.where(TimelineEntry.direction == direction)
    cursor = decode_cursor(before)
    if cursor:
        stamp, ident = cursor
        query = query.where(
            (TimelineEntry.occurred_at < stamp) | ((TimelineEntry.occurred_at == stamp) & (TimelineEntry.id < ident))
        )
    query = query.order_by(TimelineEntry.occurred_at.desc(), TimelineEntry.id.desc()).limit(limit + 1)
    rows = list(query)
    more = len(rows) > limit
    rows = with_attachments(rows[:limit])
    return rows, (encode_cursor(rows[-1]) if more and rows else None)


def render_entry(entry: TimelineEntry) -> Markup:
    """The entry's body as its channel draws it. A renderer that fails (data it did not expect) must not
    break the page that lists the entry: the failure is logged and a placeholder shows the summary."""
    try:
        html = hook().render_timeline_entry(entry=entry, request=request)
    except Exception:  # noqa: BLE001 - one bad entry must not take the profile or dashboard down
        log.exception("timeline entry %s (channel %s) could not be rendered", entry.id, entry.channel)
        return Markup(render_template("timeline/_entry_unrenderable.html", entry=entry))  # nosec B704 # render_template output, autoescaped
    if html is None:
        return Markup("")
    # The hook answers Markup; plain text from a renderer is text, never trusted as HTML.
    return html if isinstance(html, Markup) else escape(html)


MAX_ENTRY_DATA_CHARS = 16_000
# The delivery state of an outgoing message (queued, sent, delivered, read, failed) and the transport's reason
# for a failure: kept by the channel that sent it (through ``update_entry``), drawn by the entry footer.
DELIVERY_KEYS = ("delivery_state", "delivery_error")


def entry_data_errors(channel: str, data) -> list[str]:
    """What is wrong with ``data`` offered for a new entry of ``channel`` from outside (the JSON API):
    the core's limits (an object, at most ``MAX_ENTRY_DATA_CHARS`` as JSON) and every plugin's
    ``validate_entry_data`` answer."""
    import json

    if data is None:
        return []
    if not isinstance(data, dict):
        return [_("Must be an object.")]
    if len(json.dumps(data, ensure_ascii=False, default=str)) > MAX_ENTRY_DATA_CHARS:
        return [_("Too long: at most %(n)s characters.", n=MAX_ENTRY_DATA_CHARS)]
    errors: list[str] = []
    reserved = [key for key in DELIVERY_KEYS if key in data]
    if reserved:  # written by the channel that sent the message, as its transport reports it
        errors.append(_("These keys are written by the channel that sends the message: %(keys)s.",
                        keys=", ".join(reserved)))
    for answer in hook().validate_entry_data(channel=channel, data=data):
        errors.extend(str(message) for message in answer or ())
    return errors


def _channel_choices(manual_only: bool = True):
    lang = "label_ar" if _current_lang() == "ar" else "label_en"
    return [SelectChoice(c["key"], c[lang]) for c in channels() if c.get("manual", True) or not manual_only]


def _current_lang() -> str:
    from flask_babel import get_locale

    return str(get_locale() or "ar")


def _hijri_or_gregorian(form, field):
    try:
        parse_date(field.data)
    except ValidationError as exc:
        raise WTFValidationError(str(exc.message)) from None


class ContactForm(FlaskForm):
    channel = SelectField(_l("Channel"), validators=[DataRequired()])
    direction = SelectField(
        _l("Direction"),
        choices=[SelectChoice("in", _l("From the beneficiary")), SelectChoice("out", _l("To the beneficiary"))],
        default="in",
    )
    occurred_at = DateTimeLocalField(_l("When"), validators=[Optional()], format="%Y-%m-%dT%H:%M")
    summary = StringField(_l("Summary"), validators=[DataRequired(), max_length(300)])
    body = TextAreaField(_l("Details"), validators=[Optional(), max_length(5000)])
    case = SelectField(_l("Request"), choices=[], validators=[Optional()], validate_choice=True)
    follow_up_due = StringField(
        _l("Follow-up date"), validators=[Optional(), max_length(20), _hijri_or_gregorian],
        description=_l("Hijri (1448-05-12) or Gregorian (2026-11-27)"),
    )


def contact_form_for(ben: Beneficiary, formdata=None) -> ContactForm:
    form = ContactForm(formdata=formdata)
    form.channel.choices = _channel_choices()
    from .scope import scope_cases

    cases = scope_cases(Case.select(Case.id, Case.reference, Case.status).where(Case.beneficiary == ben),
                        current_user).order_by(Case.id.desc())
    form.case.choices = [SelectChoice("", _("— none —"))] + [SelectChoice(str(c.id), c.reference) for c in cases]
    return form


def visible_beneficiary(ben_id: int) -> Beneficiary:
    ben = get_or_404(Beneficiary, Beneficiary.id == ben_id)
    from .scope import can_see_beneficiary

    if not can_see_beneficiary(ben, current_user):
        abort(403)
    return ben


def timeline_context(ben: Beneficiary):
    channel = request.args.get("channel") or None
    if channel and channel not in channel_map():
        channel = None
    direction = request.args.get("direction") or None
    if direction not in DIRECTIONS:
        direction = None
    entries, next_cursor = entries_page(
        beneficiary=ben, channel=channel, direction=direction, before=request.args.get("before"),
        limit=current_app.config["TIMELINE_PAGE_SIZE"], user=current_user,
    )
    return {
        "entries": entries, "next_cursor": next_cursor, "channel": channel, "direction": direction,
        "render_entry": render_entry,
    }


@bp.post("/timeline/<int:entry_id>/follow-up-done")
@roles_required(*CONTACT_ROLES)
def follow_up_done(entry_id):
    entry = TimelineEntry.get_or_none(TimelineEntry.id == entry_id)
    if entry is None or entry.beneficiary_id is None:
        abort(404)
    visible_beneficiary(entry.beneficiary_id)
    if entry.case_id is not None:
        from .scope import can_see_case

        if not can_see_case(Case.get_or_none(Case.id == entry.case_id), current_user):
            abort(403)
    update_entry(entry, follow_up_done=True)
    if request.htmx:
        return ""
    return redirect(request.referrer or url_for("dashboard.index"))
