"""What a branch delegate records in the field, each once: field visits (with photos of documents and, with
consent, the place), contacts on the ``delegates`` channel and requests opened on a beneficiary's behalf
(through the core's ``intake.open_request``); the planned visits of a day (the route list); the branch reports.

Every record carries the ``client_id`` its form was given (a UUID): the first submission writes it, any
later one with the same id (a double click, a form sent again without JavaScript, the phone's offline queue
replayed after reconnecting) gets the existing record back and writes nothing."""
from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from peewee import JOIN, IntegrityError, fn

from portal.audit import audit
from portal.dates import saudi_date, saudi_today
from portal.db import database, utcnow
from portal.models import Attachment, Beneficiary, Branch, User
from portal.scope import can_see_beneficiary
from portal.text import fold_digits
from portal.timeline import log_entry
from portal.validators import clean_texts

from .models import Activity, Plan, Visit

CHANNEL = "delegates"
PHOTO_KINDS = ("jpeg", "png", "webp")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class FieldError(Exception):
    """A refused submission: ``message`` for the user, ``fields`` (form field -> message)."""

    def __init__(self, message, fields: dict | None = None):
        super().__init__(str(message))
        self.message = message
        self.fields = dict(fields or {})


def new_client_id() -> str:
    return str(uuid.uuid4())


def clean_client_id(value) -> str | None:
    """The submission's id as stored (lower-case UUID), or None when it is not a UUID."""
    text = str(value or "").strip().lower()
    return text if _UUID.match(text) else None


def week_of(day: dt.date) -> dt.date:
    """The Sunday starting the (Saudi) week of ``day``."""
    return day - dt.timedelta(days=(day.weekday() + 1) % 7)


def existing(client_id: str | None) -> Activity | None:
    return Activity.get_or_none(Activity.client_id == client_id) if client_id else None


def same_submission(row: Activity, *, kind: str, delegate, beneficiary) -> bool:
    """A resend of ``row``: the same kind, by the same delegate, for the same beneficiary."""
    return row.kind == kind and row.delegate_id == delegate.id and row.beneficiary_id == beneficiary.id


def _activity(kind, client_id, delegate, ben, now) -> Activity:
    day = saudi_date(now)
    return Activity.create(kind=kind, client_id=client_id, delegate=delegate, branch=ben.branch_id, beneficiary=ben,
                           day=day, week=week_of(day), created_at=now)


def _once(client_id, write):
    """``write()`` in one transaction; when another submission with the same ``client_id`` won the race (the
    unique index refuses the second), the one stored. Returns (activity, created)."""
    try:
        with database.atomic():
            return write(), True
    except IntegrityError:
        row = existing(client_id)
        if row is None:
            raise
        return row, False


# --- field visits ---------------------------------------------------------------------------------------

def _coordinate(value, limit, field, errors):
    text = fold_digits(str(value or "")).strip().replace("٫", ".")
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        errors[field] = _l("Enter a number in degrees (e.g. 21.2703).")
        return None
    if not number.is_finite() or abs(number) > limit:
        errors[field] = _l("Enter a number between -%(n)s and %(n)s.", n=limit)
        return None
    return number.quantize(Decimal("0.000001"))


def clean_visit(form) -> tuple[dict, dict]:
    """The visit form's values and its errors (field -> message). A place given without the consent box
    ticked is dropped, never stored."""
    errors: dict = {}
    values = clean_texts(form, (("household_seen", 2000, False), ("needs", 2000, False)), errors)
    if not errors and not (values["household_seen"] or values["needs"]):
        errors["needs"] = _l("Write what you saw of the household or the needs you observed.")
    consent = str(form.get("location_consent") or "") in ("1", "on", "yes", "true")
    lat = _coordinate(form.get("latitude"), 90, "latitude", errors) if consent else None
    lon = _coordinate(form.get("longitude"), 180, "longitude", errors) if consent else None
    if consent and (lat is None) != (lon is None) and not errors.get("latitude") and not errors.get("longitude"):
        errors["latitude" if lat is None else "longitude"] = _l("Give both the latitude and the longitude.")
    values.update(location_consent=consent and lat is not None and lon is not None,
                  latitude=lat if consent else None, longitude=lon if consent else None)
    return values, errors


def store_photos(files) -> list:
    """Check and store the photos of documents (the core's upload service: content sniffed, size capped,
    image bombs refused). Raises FieldError on the first refused one; nothing is written to the database."""
    from portal.uploads import UploadError, store_upload

    files = [f for f in files if f is not None and getattr(f, "filename", "")]
    most = int(current_app.config["DELEGATES_PHOTOS_MAX"])
    if len(files) > most:
        raise FieldError(_("At most %(n)s photos per visit.", n=most),
                         {"photos": _("At most %(n)s photos per visit.", n=most)})
    stored = []
    max_bytes = int(current_app.config["DELEGATES_PHOTO_MB"]) * 1024 * 1024
    for f in files:
        try:
            stored.append(store_upload(f, allowed=PHOTO_KINDS, max_bytes=max_bytes, max_pages=1,
                                       refused_message=_l("Only photos (JPEG or PNG) can be attached.")))
        except UploadError as exc:
            message = _("The photo %(name)s: %(reason)s", name=f.filename, reason=str(exc.message))
            raise FieldError(message, {"photos": message}) from None
    return stored


def visit_summary(values: dict) -> str:
    with force_locale("ar"):
        text = values["needs"] or values["household_seen"]
        return _("Field visit: %(text)s", text=text)[:300]


def record_visit(*, beneficiary, delegate, client_id: str, values: dict, photos=(), plan: Plan | None = None):
    """Write the visit, its timeline entry (channel ``delegates``) and its photos, once per ``client_id``.
    Returns (activity, created)."""

    def write():
        now = utcnow()
        activity = _activity("visit", client_id, delegate, beneficiary, now)
        data = {"kind": "visit", "household_seen": values["household_seen"], "needs": values["needs"],
                "photos": len(photos), "located": bool(values["location_consent"])}
        body = "\n\n".join(v for v in (values["household_seen"], values["needs"]) if v)
        entry = log_entry(channel=CHANNEL, direction="out", beneficiary=beneficiary, summary=visit_summary(values),
                          body=body, actor=delegate, data=data, occurred_at=now)
        for photo in photos:
            Attachment.create(entry=entry, sha256=photo.sha256, file_name=photo.file_name,
                              content_type=photo.content_type, size=photo.size)
        Activity.update(entry=entry).where(Activity.id == activity.id).execute()
        activity.entry = entry
        Visit.create(activity=activity, plan=plan, household_seen=values["household_seen"], needs=values["needs"],
                     location_consent=values["location_consent"], latitude=values["latitude"],
                     longitude=values["longitude"])
        if plan is not None:
            Plan.update(done=activity).where(Plan.id == plan.id).execute()
        audit("create", "delegates_visit", activity.id, {"beneficiary": beneficiary.id, "photos": len(photos),
                                                         "located": bool(values["location_consent"])}, actor=delegate)
        return activity

    return _once(client_id, write)


# --- contacts -----------------------------------------------------------------------------------------

def clean_contact(form) -> tuple[dict, dict]:
    errors: dict = {}
    values = clean_texts(form, (("summary", 300, True), ("body", 5000, False)), errors)
    direction = str(form.get("direction") or "out")
    if direction not in ("in", "out"):
        errors["direction"] = _l("Choose who reached whom.")
    values["direction"] = direction
    return values, errors


def log_contact(*, beneficiary, delegate, client_id: str, values: dict):
    """A contact on the ``delegates`` channel, once per ``client_id``. Returns (activity, created)."""

    def write():
        now = utcnow()
        activity = _activity("contact", client_id, delegate, beneficiary, now)
        entry = log_entry(channel=CHANNEL, direction=values["direction"], beneficiary=beneficiary,
                          summary=values["summary"], body=values["body"], actor=delegate, occurred_at=now,
                          data={"kind": "contact"})
        Activity.update(entry=entry).where(Activity.id == activity.id).execute()
        activity.entry = entry
        return activity

    return _once(client_id, write)


# --- requests opened on a beneficiary's behalf -----------------------------------------------------------

def open_request(*, beneficiary, delegate, client_id: str, form: dict):
    """The core's ``intake.open_request`` on the ``delegates`` channel, once per ``client_id``. Raises the
    core's WorkflowError (per-field messages) when the request is refused. Returns (activity, created)."""
    from portal.workflow import intake

    answers = {k[len("answer_"):]: v for k, v in form.items() if k.startswith("answer_")}

    def write():
        now = utcnow()
        activity = _activity("request", client_id, delegate, beneficiary, now)
        case = intake.open_request(beneficiary, form.get("request_type") or "", channel=CHANNEL, actor=delegate,
                                   summary=form.get("summary") or "", answers=answers)
        Activity.update(case=case).where(Activity.id == activity.id).execute()
        activity.case = case
        return activity

    return _once(client_id, write)


# --- the route list ------------------------------------------------------------------------------------

def delegates_of(branch_id=None) -> list:
    """Active users with the delegate role (of ``branch_id`` when given), by name."""
    query = User.select().where((User.is_active == True) & (User.roles.contains("delegate")))  # noqa: E712
    if branch_id:
        query = query.where(User.branch == branch_id)
    return [u for u in query.order_by(User.full_name) if u.has_role("delegate")]


def route(delegate, day: dt.date) -> list[Plan]:
    """The day's planned visits of ``delegate``, in the order of the route, with their beneficiaries."""
    return list(Plan.select(Plan, Beneficiary).join(Beneficiary, attr="beneficiary")
                .where((Plan.delegate == delegate.id) & (Plan.day == day))
                .order_by(Plan.position, Plan.id))


def recorded_on(delegate, day: dt.date) -> list[Activity]:
    """What ``delegate`` recorded on ``day``, newest first, with the beneficiaries."""
    return list(Activity.select(Activity, Beneficiary).join(Beneficiary, attr="beneficiary")
                .where((Activity.delegate == delegate.id) & (Activity.day == day))
                .order_by(Activity.id.desc()).limit(100))


def add_plan(*, delegate, beneficiary, day: dt.date, note: str, actor) -> Plan:
    """Put a visit on ``delegate``'s route of ``day`` (last stop). Raises FieldError when the delegate may
    not see the file, or it is already on that day's route."""
    if not delegate.has_role("delegate") or not can_see_beneficiary(beneficiary, delegate):
        raise FieldError(_("This file is not in the delegate's branch."),
                         {"beneficiary": _("This file is not in the delegate's branch.")})
    try:
        with database.atomic():
            last = (Plan.select(fn.MAX(Plan.position)).where((Plan.delegate == delegate.id) & (Plan.day == day))
                    .scalar())
            plan = Plan.create(delegate=delegate, beneficiary=beneficiary, day=day, position=(last or 0) + 1,
                               note=note, created_by=actor)
            audit("create", "delegates_plan", plan.id, {"delegate": delegate.id, "beneficiary": beneficiary.id,
                                                        "day": day.isoformat()}, actor=actor)
    except IntegrityError:
        raise FieldError(_("This visit is already on that day's route."),
                         {"beneficiary": _("This visit is already on that day's route.")}) from None
    return plan


def move_plan(plan: Plan, direction: str, actor) -> bool:
    """Swap a stop with the one before (``up``) or after (``down``) it on the same route; False at an end."""
    same_route = (Plan.delegate == plan.delegate_id) & (Plan.day == plan.day) & (Plan.id != plan.id)
    if direction == "up":
        other = (Plan.select().where(same_route & ((Plan.position < plan.position)
                                                   | ((Plan.position == plan.position) & (Plan.id < plan.id))))
                 .order_by(Plan.position.desc(), Plan.id.desc()).first())
    else:
        other = (Plan.select().where(same_route & ((Plan.position > plan.position)
                                                   | ((Plan.position == plan.position) & (Plan.id > plan.id))))
                 .order_by(Plan.position, Plan.id).first())
    if other is None:
        return False
    mine, theirs = plan.position, other.position
    if mine == theirs:  # equal positions (never made here): order them first
        theirs = mine + (1 if direction == "down" else -1)
    with database.atomic():
        Plan.update(position=theirs).where(Plan.id == plan.id).execute()
        Plan.update(position=mine).where(Plan.id == other.id).execute()
        audit("update", "delegates_plan", plan.id, {"moved": direction}, actor=actor)
    return True


def remove_plan(plan: Plan, actor) -> bool:
    """Take a stop not visited yet off the route; False for one already visited."""
    with database.atomic():
        gone = Plan.delete().where((Plan.id == plan.id) & Plan.done.is_null()).execute()
        if gone:
            audit("delete", "delegates_plan", plan.id, {"beneficiary": plan.beneficiary_id}, actor=actor)
    return bool(gone)


# --- branch reports ------------------------------------------------------------------------------------

def report(*, branch_id: int | None, weeks: int = 8, today: dt.date | None = None) -> dict:
    """Contacts, visits and requests per delegate and per week over the last ``weeks`` weeks (one GROUP BY
    over the delegates' records), for one branch or all (``branch_id`` None)."""
    first = week_of(today or saudi_today()) - dt.timedelta(weeks=weeks - 1)
    count = fn.COUNT(Activity.id).alias("n")
    query = (Activity.select(Activity.delegate, Activity.week, Activity.kind, count)
             .where(Activity.week >= first)
             .group_by(Activity.delegate, Activity.week, Activity.kind))
    if branch_id:
        query = query.where(Activity.branch == branch_id)
    cells: dict = {}
    for row in query.dicts():
        week = row["week"] if isinstance(row["week"], dt.date) else dt.date.fromisoformat(str(row["week"]))
        cells.setdefault((row["delegate"], week), {k: 0 for k in ("visit", "contact", "request")})[row["kind"]] = row["n"]
    names = {u.id: u.full_name for u in User.select(User.id, User.full_name)
             .where(User.id.in_(list({d for d, _w in cells} or [0])))}
    rows = [{"delegate": names.get(d, "?"), "delegate_id": d, "week": w, **counts}
            for (d, w), counts in cells.items()]
    rows.sort(key=lambda r: (-r["week"].toordinal(), r["delegate"]))
    totals = {k: sum(r[k] for r in rows) for k in ("visit", "contact", "request")}
    return {"rows": rows, "totals": totals, "first": first, "weeks": weeks}


def branches() -> list[Branch]:
    return list(Branch.select().order_by(Branch.code))


def plans_left_open(delegate) -> int:
    """How many of today's stops are not visited yet (the menu's hint)."""
    return (Plan.select().where((Plan.delegate == delegate.id) & (Plan.day == saudi_today())
                                & Plan.done.is_null()).count())


def visits_query():
    return (Activity.select(Activity, Visit, Beneficiary)
            .join(Visit, JOIN.INNER, on=(Visit.activity == Activity.id), attr="visit")
            .switch(Activity).join(Beneficiary, attr="beneficiary")
            .where(Activity.kind == "visit"))
