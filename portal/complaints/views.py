"""The register's screens: the list (keyset pages, filters), a new entry recorded by staff (from the register
or from a beneficiary's file), one entry with its handling forms, the feedback themes and "You said, we did"."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from peewee import JOIN

from ..auth import roles_required
from ..dates import saudi_today
from ..hygiene import get_or_404
from ..listing import Sort, assignee_filter, choice_filter, keyset_page, work_list_query
from ..models import Case, User
from ..plugins import channel_map
from ..templating import render
from ..timeline import visible_beneficiary
from ..validators import ValidationError, clean_mobile
from ..workflow.views_cases import channel_options
from . import KIND_LABEL, KINDS, STATE_LABEL, STATES, ComplaintError, open_complaint
from . import service
from .models import Complaint, FeedbackTheme, Improvement

bp = Blueprint("complaints", __name__, url_prefix="/complaints")

READ = service.READ_ROLES
WORK = service.HANDLER_ROLES
MANAGE = ("manager", "admin")
SORTS = {
    "deadline": Sort(Complaint.deadline, _l("Deadline"), descending=False),
    "created": Sort(Complaint.created_at, _l("Received")),
}


def register_filters(args, user):
    """``(query, kept)``: the entries the filters in ``args`` select, and the cleaned filters for links."""
    query = work_list_query(Complaint)
    kept = {}
    state = args.get("state", "open")
    if state in STATES:
        query = query.where(Complaint.state == state)
        kept["state"] = state
    else:
        kept["state"] = "all"
    query = choice_filter(query, Complaint.kind, args, "kind", KINDS, kept)
    query = choice_filter(query, Complaint.channel, args, "channel", channel_map(), kept)
    if args.get("overdue") in ("1", "true", "yes"):
        query = query.where(service.overdue_condition())
        kept["overdue"] = "1"
    query = assignee_filter(query, Complaint.assigned_to, args, user, kept)
    return query, kept


def _list_context():
    query, kept = register_filters(request.args, current_user)
    page = keyset_page(query, SORTS, request.args, id_field=Complaint.id, default="deadline", filters=kept)
    return {"page": page, "rows": page.rows, "kept": kept, "kinds": KINDS, "states": STATES,
            "kind_label": KIND_LABEL, "state_label": STATE_LABEL, "channel_options": channel_options(),
            "channel_names": dict(channel_options()), "today": saudi_today()}


@bp.get("/")
@roles_required(*READ)
def index():
    return render("complaints/index.html", block="register", **_list_context())


# --- a new entry recorded by staff ---------------------------------------------------------------

def _new_context(form=None, errors=None, ben=None):
    import secrets

    return {"form": form or {}, "errors": errors or {}, "ben": ben, "kinds": KINDS, "kind_label": KIND_LABEL,
            "channel_options": channel_options(), "nonce": secrets.token_hex(16)}


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*WORK)
def new():
    ben = None
    ben_id = request.values.get("ben_id", type=int)
    if ben_id:
        ben = visible_beneficiary(ben_id)
    if request.method == "GET":
        return render("complaints/new.html", **_new_context(
            {"kind": "complaint", "reference": request.args.get("reference", "")[:30]}, ben=ben))
    form = request.form.to_dict()
    errors = {}
    case = None
    reference = (form.get("reference") or "").strip()
    if reference:
        from ..text import normalize_reference

        case = Case.get_or_none(Case.reference == normalize_reference(reference))
        if case is None:
            errors["reference"] = _("No request has this reference.")
        elif ben is not None and case.beneficiary_id != ben.id:
            errors["reference"] = _("This request belongs to another file.")
    if ben is None and (form.get("file") or "").strip():
        ben = service.find_file(form.get("file"))
        if ben is None:
            errors["file"] = _("No file has this number.")
    mobile = ""
    if (form.get("contact_mobile") or "").strip():
        try:
            mobile = clean_mobile(form.get("contact_mobile"))
        except ValidationError as exc:
            errors["contact_mobile"] = str(exc.message)
    if not errors:
        try:
            complaint = open_complaint(
                kind=form.get("kind", ""), channel=form.get("channel", ""), text=form.get("text", ""),
                beneficiary=ben, case=case, contact_name=form.get("contact_name", ""), contact_mobile=mobile,
                contact_requested=bool(form.get("contact_requested")), source="staff",
                source_id=((form.get("nonce") or "")[:64] or None), user=current_user._get_current_object())
        except ComplaintError as exc:
            errors[exc.field or "__all__"] = str(exc.message)
        else:
            flash(_("Recorded as %(ref)s, due on %(day)s.", ref=complaint.reference,
                    day=complaint.deadline.isoformat()), "success")
            return redirect(url_for("complaints.show", complaint_id=complaint.id))
    return render("complaints/new.html", **_new_context(form, errors, ben)), 422


# --- one entry -----------------------------------------------------------------------------------

def _complaint(complaint_id: int) -> Complaint:
    complaint = get_or_404(Complaint, Complaint.id == complaint_id)
    if complaint.beneficiary_id is not None:
        visible_beneficiary(complaint.beneficiary_id)
    return complaint


def _handlers():
    return [u for u in User.select().where(User.is_active == True).order_by(User.full_name)  # noqa: E712
            if u.has_role(*service.HANDLER_ROLES)]


def _show_context(complaint, errors=None, form=None):
    return {"c": complaint, "errors": errors or {}, "form": form or {}, "kind_label": KIND_LABEL,
            "state_label": STATE_LABEL, "channel_names": dict(channel_options()),
            "outcomes": [(k, str(v)) for k, v in service.OUTCOME_LABEL.items()],
            "outcome_label": service.OUTCOME_LABEL, "satisfaction_label": service.SATISFACTION_LABEL,
            "theme_options": [(t.id, t.name_ar) for t in FeedbackTheme.select().where(
                FeedbackTheme.active == True).order_by(FeedbackTheme.name_ar)],  # noqa: E712
            "handlers": service.may_assign_others(current_user),
            "handler_options": ([(u.id, u.full_name) for u in _handlers()]
                                if service.may_assign_others(current_user) else []),
            "delivery": service.delivery_state(complaint), "today": saudi_today(),
            "overdue": complaint.state == "open" and complaint.deadline < saudi_today(),
            "can_work": current_user.has_role(*WORK), "can_manage": current_user.has_role(*MANAGE)}


@bp.get("/<int:complaint_id>")
@roles_required(*READ)
def show(complaint_id):
    return render("complaints/show.html", **_show_context(_complaint(complaint_id)))


def _act(complaint_id, action, ok_message):
    complaint = _complaint(complaint_id)
    try:
        result = action(complaint)
    except ComplaintError as exc:
        return render("complaints/show.html", **_show_context(
            complaint, {exc.field or "__all__": str(exc.message)}, request.form.to_dict())), 422
    flash(ok_message(result) if callable(ok_message) else ok_message, "success")
    return redirect(url_for("complaints.show", complaint_id=complaint_id))


def _actor():
    return current_user._get_current_object()


@bp.post("/<int:complaint_id>/link-file")
@roles_required(*WORK)
def link_file(complaint_id):
    def action(c):
        ben = service.find_file(request.form.get("file", ""))
        if ben is not None:
            visible_beneficiary(ben.id)
        return service.link_file(c, request.form.get("file", ""), _actor())
    return _act(complaint_id, action, _("Linked to the file."))


@bp.post("/<int:complaint_id>/link-request")
@roles_required(*WORK)
def link_request(complaint_id):
    return _act(complaint_id, lambda c: service.link_request(c, request.form.get("reference", ""), _actor()),
                _("Linked to the request."))


@bp.post("/<int:complaint_id>/assign")
@roles_required(*WORK)
def assign(complaint_id):
    raw = request.form.get("assignee", "")
    if raw == "me":
        assignee = current_user.id
    elif raw in ("", "none"):
        assignee = None
    else:
        try:
            assignee = int(raw)
        except ValueError:
            assignee = -1
    return _act(complaint_id, lambda c: service.assign(c, assignee, _actor()), _("The assignee was saved."))


def _answer_message(result):
    _c, state = result
    if state == "sent":
        return _("The answer was sent.")
    if state == "queued":
        return _("The answer is recorded and waiting to be sent.")
    return _("The answer is recorded but was not sent: give it by phone or link the entry to a file.")


@bp.post("/<int:complaint_id>/answer")
@roles_required(*WORK)
def answer(complaint_id):
    return _act(complaint_id, lambda c: service.answer(c, request.form.get("answer", ""), _actor()),
                _answer_message)


@bp.post("/<int:complaint_id>/close")
@roles_required(*WORK)
def close(complaint_id):
    form = request.form
    return _act(complaint_id, lambda c: service.close(c, outcome=form.get("outcome", ""), note=form.get("note", ""),
                                                      satisfaction=form.get("satisfaction") or None, actor=_actor()),
                _("The entry is closed."))


@bp.post("/<int:complaint_id>/theme")
@roles_required(*MANAGE)
def theme(complaint_id):
    return _act(complaint_id, lambda c: service.set_theme(c, request.form.get("theme") or None, _actor()),
                _("The theme was saved."))


# --- themes and "You said, we did" ---------------------------------------------------------------

@bp.route("/themes", methods=["GET", "POST"])
@roles_required(*MANAGE)
def themes():
    errors, form = {}, {}
    if request.method == "POST":
        form = request.form.to_dict()
        try:
            service.add_theme(form.get("name_ar", ""), form.get("name_en", ""), _actor())
        except ComplaintError as exc:
            errors[exc.field or "__all__"] = str(exc.message)
        else:
            flash(_("The theme was added."), "success")
            return redirect(url_for("complaints.themes"))
    rows = list(FeedbackTheme.select().order_by(FeedbackTheme.name_ar))
    return render("complaints/themes.html", themes=rows, errors=errors, form=form), (422 if errors else 200)


@bp.get("/improvements")
@roles_required(*MANAGE)
def improvements():
    rows = list(Improvement.select(Improvement, FeedbackTheme)
                .join(FeedbackTheme, JOIN.LEFT_OUTER, on=(Improvement.theme == FeedbackTheme.id), attr="theme")
                .order_by(Improvement.done_on.desc(), Improvement.id.desc()).limit(200))
    return render("complaints/improvements.html", rows=rows)


@bp.route("/improvements/new", methods=["GET", "POST"], defaults={"improvement_id": None})
@bp.route("/improvements/<int:improvement_id>", methods=["GET", "POST"])
@roles_required(*MANAGE)
def improvement_form(improvement_id):
    item = get_or_404(Improvement, Improvement.id == improvement_id) if improvement_id else None
    errors = {}
    if request.method == "POST":
        form = request.form.to_dict()
        try:
            service.save_improvement(form, _actor(), item)
        except ComplaintError as exc:
            errors = getattr(exc, "errors", {exc.field: exc.message})
            errors = {k: str(v) for k, v in errors.items()}
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("complaints.improvements"))
    elif item is not None:
        form = {"said_ar": item.said_ar, "did_ar": item.did_ar, "said_en": item.said_en, "did_en": item.did_en,
                "done_on": item.done_on.isoformat(), "theme": item.theme_id or "", "published": item.published}
    else:
        form = {"done_on": saudi_today().isoformat()}
    theme_options = [(t.id, t.name_ar) for t in FeedbackTheme.select().order_by(FeedbackTheme.name_ar)]
    return render("complaints/improvement_form.html", form=form, errors=errors, item=item,
                  theme_options=theme_options), (422 if errors else 200)
