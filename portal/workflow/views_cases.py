"""Case screens: the list, opening a request, the case page with its step forms, the researcher's
queue, the printable request form. Every POST goes through the workflow services; a refused change
re-renders the case page with the message and what was typed (422/409) and writes nothing."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from peewee import JOIN

from ..audit import audit
from ..auth import EDIT_ROLES, STAFF_ROLES, roles_required
from ..beneficiaries_service import document_values
from ..db import database
from ..exports import Column, export_list
from .. import labels
from ..hygiene import parse_int
from ..labels import DOCUMENT_KIND
from ..listing import Sort, choice_filter, keyset_page, period_filter
from ..models import Beneficiary, Branch, Case, Document, TimelineEntry, User
from .. import scope as _scope
from ..plugins import channels
from ..templating import render
from ..timeline import render_entry, visible_beneficiary
from ..uploads import path_for
from . import committee as committee_service
from . import intake, machine, progress, research, service
from .errors import ChecklistIncomplete, WorkflowError
from .models import (
    AgendaItem,
    CommitteeSession,
    Declaration,
    Delivery,
    Enrolment,
    LibraryDocument,
    RequestType,
    ResearchAttachment,
    ResearchReport,
    Vote,
)

bp = Blueprint("cases", __name__)

INTAKE_ROLES = EDIT_ROLES  # officer, delegate, admin
FULL_VIEW_ROLES = _scope.FULL_VIEW_ROLES


def _user():
    return current_user._get_current_object()


def scope_cases(query, user):
    """Researchers (without another role) see only their assigned requests; delegates only their branch."""
    return _scope.scope_cases(query, user)


def can_see(case: Case, user) -> bool:
    return _scope.can_see_case(case, user)


def visible_case(ref: str) -> Case:
    case = (Case.select(Case, Beneficiary).join(Beneficiary, attr="beneficiary")
            .where(Case.reference == ref).first())
    if case is None:
        abort(404)
    if not can_see(case, current_user):
        abort(403)
    return case


def _lang():
    return str(get_locale() or "ar")


def channel_options() -> list[tuple[str, str]]:
    lang = _lang()
    return [(c["key"], c["label_ar"] if lang == "ar" else c["label_en"]) for c in channels()]


def type_names() -> dict:
    lang = _lang()
    return {t.code: t.name(lang) for t in RequestType.select(RequestType.code, RequestType.name_ar, RequestType.name_en)}


# --- list and queue --------------------------------------------------------------------------------

CASE_SORTS = {
    "changed": Sort(Case.status_changed_at, _l("Last change")),
    "created": Sort(Case.created_at, _l("Opened")),
    "reference": Sort(Case.reference, _l("Reference"), descending=False),
}


def case_filters(args, user, errors: dict):
    """The requests list's filters, cleaned: ``(query, kept)`` where ``kept`` goes into every link."""
    kept = {}
    query = Case.select(Case, Beneficiary).join(Beneficiary, attr="beneficiary")
    query = choice_filter(query, Case.status, args, "status", machine.STATUSES, kept)
    rtype = (args.get("type") or "")[:60]
    if rtype:
        query = query.where(Case.request_type == rtype)
        kept["type"] = rtype
    query = choice_filter(query, Case.channel, args, "channel", {c["key"] for c in channels()}, kept)
    branch = parse_int(args.get("branch"))
    if branch:
        query = query.where(Beneficiary.branch == branch)
        kept["branch"] = branch
    researcher = args.get("researcher") or ""
    if researcher == "me":
        query = query.where(Case.assigned_researcher == user.id)
        kept["researcher"] = "me"
    elif parse_int(researcher):
        query = query.where(Case.assigned_researcher == parse_int(researcher))
        kept["researcher"] = parse_int(researcher)
    if args.get("overdue") == "1":
        query = query.where((Case.status == "awaiting_committee") & (Case.committee_due_at < intake.utcnow()))
        kept["overdue"] = "1"
    query = period_filter(query, Case.created_at, args, errors, kept)
    return scope_cases(query, user), kept


@bp.get("/cases/")
@roles_required(*STAFF_ROLES)
def index():
    errors = {}
    query, kept = case_filters(request.args, current_user, errors)
    page = keyset_page(query, CASE_SORTS, request.args, id_field=Case.id, default="changed", filters=kept)
    researchers = [u for u in User.select(User.id, User.full_name, User.roles).where(User.is_active == True)  # noqa: E712
                   .order_by(User.full_name) if u.has_role("researcher")]
    branches = list(Branch.select().order_by(Branch.name_ar))
    return render("cases/index.html", block="results", page=page, rows=page.rows, args=request.args,
                  errors=errors, kept=kept, types=intake.active_request_types(), type_names=type_names(),
                  now=intake.utcnow(), statuses=machine.STATUSES, channel_options=channel_options(),
                  researchers=researchers, branches=branches), (422 if errors else 200)


def _case_columns():
    names = type_names()
    return [
        Column("reference", _l("Reference"), lambda c: c.reference),
        Column("file_number", _l("File number"), lambda c: c.beneficiary.file_number),
        Column("beneficiary", _l("Beneficiary"), lambda c: c.beneficiary.full_name),
        Column("type", _l("Type"), lambda c: names.get(c.request_type, c.request_type)),
        Column("channel", _l("Channel"), lambda c: c.channel),
        Column("status", _l("Status"), lambda c: labels.label(labels.CASE_STATUS, c.status)),
        Column("created_at", _l("Opened"), lambda c: c.created_at, "datetime"),
        Column("status_changed_at", _l("Last change"), lambda c: c.status_changed_at, "datetime"),
        Column("committee_due_at", _l("Committee due"), lambda c: c.committee_due_at, "datetime"),
        Column("decision", _l("Decision"), lambda c: c.decision),
        Column("amount", _l("Amount"), lambda c: c.amount, "number"),
        Column("decided_at", _l("Decided"), lambda c: c.decided_at, "datetime"),
    ]


@bp.get("/cases/export.<fmt>")
@roles_required(*STAFF_ROLES)
def export(fmt):
    """The requests list as on screen (filters, order, scope), every row, as CSV or XLSX."""
    return export_list(fmt, "requests", _case_columns(), filters=case_filters, sorts=CASE_SORTS, id_field=Case.id,
                       default="changed", object_type="case_list")


@bp.get("/cases/research")
@roles_required("researcher")
def research_queue():
    rows = list(Case.select(Case, Beneficiary).join(Beneficiary, attr="beneficiary")
                .where((Case.assigned_researcher == current_user.id) & (Case.status == "in_research"))
                .order_by(Case.referred_at, Case.id))
    done = list(Case.select(Case, Beneficiary).join(Beneficiary, attr="beneficiary")
                .where((Case.assigned_researcher == current_user.id) & (Case.status != "in_research"))
                .order_by(Case.status_changed_at.desc()).limit(30))
    return render("cases/research_queue.html", rows=rows, done=done, type_names=type_names())


# --- opening a request ------------------------------------------------------------------------------

def _new_context(ben, form=None, errors=None):
    types = intake.active_request_types()
    selected = intake.get_request_type((form or {}).get("request_type")) if form else None
    selected = selected or (types[0] if types else None)
    return {"ben": ben, "form": form or {"channel": current_app.config["DEFAULT_CHANNEL"]}, "errors": errors or {},
            "types": types,
            "questions": {t.code: intake.questions(t) for t in types},
            "checklists": {t.code: intake.checklist_for(ben, t) for t in types}, "selected": selected,
            "channel_options": channel_options()}


@bp.route("/beneficiaries/<int:ben_id>/cases/new", methods=["GET", "POST"])
@roles_required(*INTAKE_ROLES)
def new(ben_id):
    ben = visible_beneficiary(ben_id)
    if request.method == "GET":
        form = {"channel": current_app.config["DEFAULT_CHANNEL"], "request_type": request.args.get("type", "")}
        return render("cases/new.html", **_new_context(ben, form))
    form = request.form.to_dict()
    answers = {k[len("answer_"):]: v for k, v in form.items() if k.startswith("answer_")}
    try:
        case = intake.open_request(ben, form.get("request_type"), channel=form.get("channel", ""), actor=_user(),
                                   summary=form.get("summary", ""), answers=answers)
    except WorkflowError as exc:
        errors = dict(exc.fields)
        errors["__all__"] = exc.message
        return render("cases/new.html", **_new_context(ben, form, errors)), exc.status
    flash(_("Request %(ref)s was opened.", ref=case.reference), "success")
    return redirect(url_for("cases.show", ref=case.reference))


# --- the case page ------------------------------------------------------------------------------

def case_context(case: Case, errors=None, forms=None, checklist=None):
    user = current_user
    rtype = intake.get_request_type(case.request_type)
    actor = User.alias()
    entries = list(TimelineEntry.select(TimelineEntry, actor)
                   .join(actor, JOIN.LEFT_OUTER, on=(TimelineEntry.actor == actor.id), attr="actor")
                   .where(TimelineEntry.case == case).order_by(TimelineEntry.occurred_at.desc(), TimelineEntry.id.desc())
                   .limit(100))
    for e in entries:
        e.case = case
        e.attachments = []
    witness = User.alias()
    declarations = list(Declaration.select(Declaration, witness)
                        .join(witness, JOIN.LEFT_OUTER, on=(Declaration.witness == witness.id), attr="witness")
                        .where(Declaration.case == case).order_by(Declaration.given_at.desc()))
    reports = list(ResearchReport.select(ResearchReport, User).join(User, JOIN.LEFT_OUTER, attr="researcher")
                   .where(ResearchReport.case == case).order_by(ResearchReport.id.desc()))
    attachments = {}
    if reports:
        for a in ResearchAttachment.select().where(ResearchAttachment.report.in_([r.id for r in reports])):
            attachments.setdefault(a.report_id, []).append(a)
    voter = User.alias()
    votes = list(Vote.select(Vote, voter).join(voter, on=(Vote.member == voter.id), attr="member")
                 .where(Vote.case == case).order_by(Vote.at))
    sessions = list(CommitteeSession.select().join(AgendaItem).where(AgendaItem.case == case)
                    .order_by(CommitteeSession.held_on.desc()))
    deliveries = list(Delivery.select(Delivery, User).join(User, JOIN.LEFT_OUTER, attr="delivered_by")
                      .where(Delivery.case == case).order_by(Delivery.delivered_on.desc(), Delivery.id.desc()))
    enrolment = Enrolment.get_or_none(Enrolment.case == case)
    documents = list(Document.select().where(Document.beneficiary == case.beneficiary_id)
                     .order_by(Document.id.desc()))
    researchers = [u for u in User.select().where(User.is_active == True).order_by(User.full_name)  # noqa: E712
                   if u.has_role("researcher")]
    tools = list(LibraryDocument.select().order_by(LibraryDocument.position, LibraryDocument.id))

    document_options = []
    for d in documents:
        text = str(DOCUMENT_KIND.get(d.kind, d.kind))
        if d.number:
            text += f" {d.number}"
        if d.expiry_date:
            text += f" ({d.expiry_date.isoformat()})"
        document_options.append((d.id, text))
    ctx = {
        "case": case, "ben": case.beneficiary, "rtype": rtype, "document_options": document_options,
        "researcher_options": [(u.id, u.full_name) for u in researchers],
        "checklist": checklist or intake.evaluate_checklist(case), "entries": entries, "render_entry": render_entry,
        "declarations": declarations, "declaration_text": intake.current_declaration_text(), "reports": reports,
        "attachments": attachments, "votes": votes, "sessions": sessions, "deliveries": deliveries,
        "enrolment": enrolment, "documents": documents, "researchers": researchers, "tools": tools,
        "allowed": machine.allowed_actions(case.status), "errors": errors or {}, "forms": forms or {},
        "overdue": committee_service.is_overdue(case), "now": intake.utcnow(), "type_names": type_names(),
        "channel_options": channel_options(), "questions": intake.questions(rtype) if rtype else [],
        "can_intake": user.has_role(*INTAKE_ROLES),
        "can_change_file": user.has_role(*INTAKE_ROLES) and case.status in machine.BEFORE_COMMITTEE_STATUSES,
        "can_deliver": user.has_role(*INTAKE_ROLES) and case.status in machine.SERVICE_STATUSES,
        "can_report": case.status == "in_research" and (
            user.has_role("admin") or (user.has_role("researcher") and case.assigned_researcher_id == user.id)),
        "can_send": case.status == "in_research" and (
            user.has_role("admin", "officer") or case.assigned_researcher_id == user.id),
    }
    ctx["progress"] = progress.steps(case, declared=bool(declarations), reported=bool(reports))
    ctx["blocked"] = progress.blocked_actions(case, user, checklist_ok=ctx["checklist"].ok,
                                              declared=bool(declarations), reported=bool(reports),
                                              can_report=ctx["can_report"], can_send=ctx["can_send"])
    return ctx


@bp.get("/cases/<ref>")
@roles_required(*STAFF_ROLES)
def show(ref):
    case = visible_case(ref)

    audit("read", "case", case.id, {"reference": case.reference})
    return render("cases/show.html", **case_context(case))


def _refused(case, exc: WorkflowError, form_name: str, checklist=None):
    """Re-render the case page with the message and what was typed. A refusal of the action itself
    (wrong status, changed meanwhile: 409) is shown at the top, as its form may no longer be offered."""
    errors = {form_name: dict(exc.fields)}
    forms = {form_name: request.form.to_dict()}
    if exc.status == 409:
        errors["__page__"] = exc.message
    else:
        errors[form_name]["__all__"] = exc.message
    case = visible_case(case.reference)
    return render("cases/show.html", **case_context(case, errors=errors, forms=forms, checklist=checklist)), exc.status


def _done(case, message):
    flash(message, "success")
    return redirect(url_for("cases.show", ref=case.reference))


def _version():
    try:
        return int(request.form.get("version", ""))
    except ValueError:
        return None


def _unchanged(case):
    flash(_("This was already done; nothing was changed."), "info")
    return redirect(url_for("cases.show", ref=case.reference))


@bp.post("/cases/<ref>/submit")
@roles_required(*INTAKE_ROLES)
def submit(ref):
    case = visible_case(ref)
    try:
        result = intake.submit(case, actor=_user(), expected_version=_version(),
                               incomplete_if_missing=request.form.get("incomplete") == "1")
    except ChecklistIncomplete as exc:
        return _refused(case, exc, "submit", checklist=exc.checklist)
    except WorkflowError as exc:
        return _refused(case, exc, "submit")
    if not result.changed:
        return _unchanged(case)
    if result.case.status == "incomplete":
        return _done(case, _("The request was marked incomplete and the beneficiary was told what is missing."))
    return _done(case, _("The request was submitted."))


@bp.post("/cases/<ref>/incomplete")
@roles_required(*INTAKE_ROLES)
def incomplete(ref):
    case = visible_case(ref)
    try:
        outcome = intake.mark_incomplete(case, actor=_user(), expected_version=_version(),
                                         note=request.form.get("note", ""))
    except WorkflowError as exc:
        return _refused(case, exc, "incomplete")
    if not outcome.changed:
        return _unchanged(case)
    return _done(case, _("The request was marked incomplete and the beneficiary was told what is missing."))


@bp.post("/cases/<ref>/documents")
@roles_required(*INTAKE_ROLES)
def add_document(ref):
    """Upload a new document into the beneficiary's file, attached to this request; or attach one of
    the beneficiary's existing documents (``document`` = its id)."""
    case = visible_case(ref)
    data = request.form.to_dict()
    if data.get("document"):
        try:
            doc = Document.get_or_none(Document.id == int(data["document"]))
        except ValueError:
            doc = None
        try:
            intake.attach_document(case, doc, actor=_user())
        except WorkflowError as exc:
            return _refused(case, exc, "document")
        return _done(case, _("The document was attached to the request."))
    values, errors = document_values(data, upload=request.files.get("file"))
    if errors:
        return _refused(case, WorkflowError(_("The document was not added. Check the fields marked below."),
                                            errors), "document")
    with database.atomic():
        doc = Document.create(beneficiary=case.beneficiary_id, case=case, uploaded_by=_user(), **values)
        audit("create", "document", doc.id, {"beneficiary": case.beneficiary_id, "case": case.reference,
                                             "kind": doc.kind})
    return _done(case, _("The document was added."))


@bp.post("/cases/<ref>/declaration")
@roles_required(*INTAKE_ROLES)
def declaration(ref):
    case = visible_case(ref)
    data = request.form
    doc = None
    if data.get("document"):
        try:
            doc = Document.get_or_none(Document.id == int(data["document"]))
        except ValueError:
            doc = None
    version = None
    if data.get("text_version"):
        try:
            version = int(data["text_version"])
        except ValueError:
            version = -1
    method = data.get("method", "")
    try:
        intake.record_declaration(case, method=method, channel=data.get("channel", ""),
                                  witness=_user() if method != "self_tick" else None, text_version=version,
                                  document=doc, actor=_user())
    except WorkflowError as exc:
        return _refused(case, exc, "declaration")
    return _done(case, _("The declaration was recorded."))


@bp.post("/cases/<ref>/refer")
@roles_required(*INTAKE_ROLES)
def refer(ref):
    case = visible_case(ref)
    researcher = None
    try:
        researcher = User.get_or_none(User.id == int(request.form.get("researcher", "")))
    except ValueError:
        pass
    try:
        outcome = research.refer(case, researcher=researcher, reason=request.form.get("reason", ""), actor=_user(),
                                 expected_version=_version())
    except WorkflowError as exc:
        return _refused(case, exc, "refer")
    if not outcome.changed:
        return _unchanged(case)
    return _done(case, _("The request was referred to social research."))


@bp.post("/cases/<ref>/report")
@roles_required("researcher", "admin")
def report(ref):
    case = visible_case(ref)
    try:
        research.record_report(case, actor=_user(), data=request.form.to_dict(),
                               files=request.files.getlist("files"))
    except WorkflowError as exc:
        return _refused(case, exc, "report")
    return _done(case, _("The research report was saved."))


@bp.post("/cases/<ref>/send-to-committee")
@roles_required("officer", "researcher", "admin")
def send_to_committee(ref):
    case = visible_case(ref)
    user = _user()
    if not user.has_role("admin", "officer") and case.assigned_researcher_id != user.id:
        abort(403)
    try:
        outcome = research.send_to_committee(case, actor=user, expected_version=_version())
    except WorkflowError as exc:
        return _refused(case, exc, "send")
    if not outcome.changed:
        return _unchanged(case)
    return _done(case, _("The request was raised to the research committee."))


@bp.post("/cases/<ref>/register")
@roles_required(*INTAKE_ROLES)
def register(ref):
    case = visible_case(ref)
    try:
        outcome = service.register(case, actor=_user(), starts_on=request.form.get("starts_on"),
                                   ends_on=request.form.get("ends_on"), notes=request.form.get("notes", ""),
                                   expected_version=_version())
    except WorkflowError as exc:
        return _refused(case, exc, "register")
    if not outcome.changed:
        return _unchanged(case)
    return _done(case, _("The registration was completed."))


@bp.post("/cases/<ref>/deliveries")
@roles_required(*INTAKE_ROLES)
def delivery(ref):
    case = visible_case(ref)
    data = request.form
    try:
        service.record_delivery(case, actor=_user(), what=data.get("what", ""), delivered_on=data.get("delivered_on"),
                                amount=data.get("amount"), quantity=data.get("quantity"),
                                receipt_number=data.get("receipt_number", ""), receipt=request.files.get("receipt"))
    except WorkflowError as exc:
        return _refused(case, exc, "delivery")
    return _done(case, _("The service delivery was recorded."))


@bp.post("/cases/<ref>/close")
@roles_required(*INTAKE_ROLES)
def close(ref):
    case = visible_case(ref)
    try:
        outcome = service.close(case, actor=_user(), note=request.form.get("note", ""), expected_version=_version())
    except WorkflowError as exc:
        return _refused(case, exc, "close")
    if not outcome.changed:
        return _unchanged(case)
    return _done(case, _("The request was closed."))


@bp.post("/cases/<ref>/withdraw")
@roles_required(*INTAKE_ROLES)
def withdraw(ref):
    case = visible_case(ref)
    try:
        outcome = service.withdraw(case, actor=_user(), reason=request.form.get("reason", ""),
                                   expected_version=_version())
    except WorkflowError as exc:
        return _refused(case, exc, "withdraw")
    if not outcome.changed:
        return _unchanged(case)
    return _done(case, _("The request was withdrawn."))


@bp.get("/cases/<ref>/files/<kind>/<int:file_id>")
@roles_required(*STAFF_ROLES)
def file(ref, kind, file_id):
    case = visible_case(ref)
    if kind == "research":
        row = (ResearchAttachment.select().join(ResearchReport)
               .where((ResearchAttachment.id == file_id) & (ResearchReport.case == case)).first())
        sha, name, ctype = (row.sha256, row.file_name, row.content_type) if row else (None, None, None)
    elif kind == "receipt":
        row = Delivery.get_or_none((Delivery.id == file_id) & (Delivery.case == case))
        sha, name, ctype = (row.receipt_sha256, row.receipt_name, row.receipt_type) if row else (None, None, None)
    else:
        abort(404)
    if not sha:
        abort(404)
    audit("read", f"{kind}_file", file_id, {"case": case.reference})
    return send_file(path_for(sha), mimetype=ctype, download_name=name, as_attachment=True)


@bp.get("/cases/<ref>/request-form")
@roles_required(*STAFF_ROLES)
def request_form(ref):
    """The beneficiary support request form (طلب دعم مستفيد), printable, pre-filled."""
    case = visible_case(ref)
    ben = case.beneficiary
    rtype = intake.get_request_type(case.request_type)
    qs = intake.questions(rtype) if rtype else []

    audit("read", "request_form", case.id, {"reference": case.reference})
    return render("cases/request_form.html", case=case, ben=ben, rtype=rtype, questions=qs,
                  household=list(ben.household), checklist=intake.evaluate_checklist(case),
                  declaration_text=intake.current_declaration_text(),
                  org_registration=current_app.config["ORG_REGISTRATION"])


@bp.get("/beneficiaries/<int:ben_id>/request-form")
@roles_required(*STAFF_ROLES)
def blank_request_form(ben_id):
    """The request form pre-filled with the beneficiary's data, before a request is opened."""
    ben = visible_beneficiary(ben_id)

    audit("read", "request_form", "", {"beneficiary": ben.id})
    return render("cases/request_form.html", case=None, ben=ben, rtype=None, questions=[],
                  household=list(ben.household), checklist=None,
                  declaration_text=intake.current_declaration_text(),
                  org_registration=current_app.config["ORG_REGISTRATION"])
