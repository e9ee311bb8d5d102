"""The website's staff screens under ``/website/``: the officers' queue of inquiries and volunteers,
applications waiting for confirmation, and the admins' page and FAQ editing."""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from peewee import JOIN

from portal import labels
from portal.audit import audit
from portal.auth import roles_required
from portal.db import database, utcnow
from portal.hygiene import get_or_404
from portal.listing import Sort, assignee_filter, keyset_page
from portal.models import Beneficiary, User
from portal.templating import render
from portal.text import clean_text
from portal.validators import clean_texts
from portal.workflow.errors import WorkflowError

from . import content, inquiries, workflow_bridge
from .apply import HOUSING
from .common import bp, lang
from .models import PAGE_SLUGS, FaqItem, Inquiry, PendingApplication, SitePage, Volunteer
from .views import availability_labels

QUEUE_ROLES = ("officer", "admin", "manager")
ANSWER_ROLES = ("officer", "admin")


def _answer_form() -> dict:
    """The posted form, from an officer or an admin only: managers read the queue, they do not answer or decide."""
    if not current_user.has_role(*ANSWER_ROLES):
        abort(403)
    return request.form.to_dict()


# ---------------------------------------------------------------- staff: the officers' queue

INBOX_SORTS = {"due": Sort(Inquiry.due_at, _l("Answer due"), descending=False),
               "received": Sort(Inquiry.created_at, _l("Received"))}


@bp.get("/website/inbox")
@roles_required(*QUEUE_ROLES)
def inbox():
    """Keyset-paged (portal.listing), filtered by state and kind, sorted by due date or arrival."""
    show = "all" if request.args.get("show") == "all" else "open"
    query = (Inquiry.select(Inquiry, Beneficiary)
             .join(Beneficiary, JOIN.LEFT_OUTER, on=(Inquiry.beneficiary == Beneficiary.id), attr="beneficiary"))
    kept = {"show": show} if show == "all" else {}
    if show == "open":
        query = query.where(Inquiry.status == "open")
    kind = request.args.get("kind") or ""
    if kind in inquiries.KIND_LABELS:
        query = query.where(Inquiry.kind == kind)
        kept["kind"] = kind
    query = assignee_filter(query, Inquiry.assigned_to, request.args, current_user, kept)
    page = keyset_page(query, INBOX_SORTS, request.args, id_field=Inquiry.id,
                       default="due" if show == "open" else "received", filters=kept)
    holders = {u.id: u for u in User.select(User.id, User.full_name).where(
        User.id.in_({r.assigned_to_id for r in page.rows if r.assigned_to_id}))} if page.rows else {}
    return render("website/staff/inbox.html", block="inbox", rows=page.rows, page=page, kept=kept, show=show,
                  now=utcnow(), kinds=inquiries.KIND_LABELS, statuses=inquiries.STATUS_LABELS, holders=holders,
                  can_answer=current_user.has_role(*ANSWER_ROLES))


@bp.post("/website/inbox/<int:inquiry_id>/assign")
@roles_required(*ANSWER_ROLES)
def assign_inquiry(inquiry_id):
    """"Assign to me" (``take=1``) or give the message back (``take=0``); back to the list as it was."""
    inquiry = get_or_404(Inquiry, Inquiry.id == inquiry_id)
    take = request.form.get("take", "1") != "0"
    try:
        inquiries.assign(inquiry, current_user._get_current_object(), take=take)
    except inquiries.TakenByOther as exc:
        flash(str(exc), "error")
        return redirect(_inbox_back()), 303
    flash(_("The message is yours.") if take else _("The message is back with the team."), "success")
    return redirect(_inbox_back()), 303


def _inbox_back() -> str:
    """The list as the officer left it (filters, sort, page), never another site."""
    target = request.form.get("next", "")
    if target.startswith("/website/inbox") and not target.startswith("//"):
        return target
    return url_for("website.inbox")


@bp.route("/website/inbox/<int:inquiry_id>", methods=["GET", "POST"])
@roles_required(*QUEUE_ROLES)
def inquiry_detail(inquiry_id):
    inquiry = get_or_404(Inquiry, Inquiry.id == inquiry_id)
    errors, form = {}, {}
    if request.method == "POST":
        form = _answer_form()
        text = clean_text(form.get("answer"))
        if not text:
            errors["answer"] = _("Write the answer.")
        elif len(text) > 4000:
            errors["answer"] = _("Too long: at most %(n)s characters.", n=4000)
        if not errors:
            try:
                inquiry = inquiries.answer(inquiry, text, current_user._get_current_object())
            except inquiries.AlreadyAnswered:
                errors["answer"] = _("This was already answered.")
            else:
                if inquiry.answer_delivery:
                    flash(_("The answer was saved and sent."), "success")
                else:
                    flash(_("The answer was saved. No channel could send it: please call the person."), "info")
                return redirect(url_for("website.inquiry_detail", inquiry_id=inquiry.id))
    audit("read", "website_inquiry", inquiry.id)
    return render("website/staff/inquiry.html", inquiry=inquiry, form=form, errors=errors, now=utcnow(),
                  kinds=inquiries.KIND_LABELS, statuses=inquiries.STATUS_LABELS,
                  can_answer=current_user.has_role(*ANSWER_ROLES),
                  register=inquiries.register_entry(inquiry)), (422 if errors else 200)


@bp.get("/website/volunteers")
@roles_required(*QUEUE_ROLES)
def volunteers():
    rows = list(Volunteer.select().order_by(Volunteer.id.desc()).limit(500))
    return render("website/staff/volunteers.html", rows=rows, availability=availability_labels())


# ---------------------------------------------------------------- staff: applications waiting for confirmation

PENDING_STATUSES = {"pending": _l("Waiting for confirmation"), "confirmed": _l("Confirmed"),
                    "rejected": _l("Rejected")}


@bp.get("/website/applications")
@roles_required(*QUEUE_ROLES)
def applications():
    show = request.args.get("show", "pending")
    query = PendingApplication.select()
    if show == "pending":
        query = query.where(PendingApplication.status == "pending").order_by(PendingApplication.id)
    else:
        show = "all"
        query = query.order_by(PendingApplication.id.desc())
    rows = list(query.limit(200))
    audit("read", "website_application", "list", {"show": show})
    return render("website/staff/applications.html", rows=rows, show=show, statuses=PENDING_STATUSES)


@bp.route("/website/applications/<int:pending_id>", methods=["GET", "POST"])
@roles_required(*QUEUE_ROLES)
def application_detail(pending_id):
    """What the applicant typed beside the file with the same ID; officers and admins confirm that it
    joins the file (the registered mobile then gets the reference) or reject it."""
    pending = get_or_404(PendingApplication, PendingApplication.id == pending_id)
    errors, form = {}, {}
    if request.method == "POST":
        form = _answer_form()
        action = form.get("action")
        reason = clean_text(form.get("reason"))
        if action not in ("confirm", "reject"):
            errors["action"] = _("Choose confirm or reject.")
        elif action == "reject" and not reason:
            errors["reason"] = _("Write why the application does not belong to this file.")
        elif len(reason) > 2000:
            errors["reason"] = _("Too long: at most %(n)s characters.", n=2000)
        if not errors:
            actor = current_user._get_current_object()
            try:
                if action == "confirm":
                    case = workflow_bridge.confirm_pending(pending.id, actor)
                    flash(_("The application joined the file as request %(ref)s.", ref=case.reference), "success")
                else:
                    workflow_bridge.reject_pending(pending.id, actor, reason)
                    flash(_("The application was rejected; nothing joined the file."), "success")
            except workflow_bridge.AlreadyDecided:
                errors["action"] = _("Another officer already decided on this application.")
            except WorkflowError as exc:
                errors["action"] = str(exc.message)
            else:
                return redirect(url_for("website.application_detail", pending_id=pending.id))
        pending = PendingApplication.get_by_id(pending.id)
    audit("read", "website_application", pending.id)
    data = pending.data or {}
    return render("website/staff/application.html", pending=pending, data=data, typed=data.get("applicant") or {},
                  household=data.get("household") or {}, req=data.get("request") or {},
                  documents=data.get("documents") or {}, ben=pending.beneficiary,
                  open_case=workflow_bridge.open_case_for(pending.national_id) if pending.status == "pending" else None,
                  type_name=workflow_bridge.request_type_name((data.get("request") or {}).get("request_type", ""),
                                                              lang()),
                  statuses=PENDING_STATUSES, labels=labels, housing=HOUSING, form=form, errors=errors,
                  can_decide=current_user.has_role(*ANSWER_ROLES)), (422 if errors else 200)


# ---------------------------------------------------------------- admin: pages and FAQ

@bp.get("/website/pages")
@roles_required("admin")
def pages():
    edited = {(p.slug, p.lang): p for p in SitePage.select()}
    return render("website/staff/pages.html", slugs=PAGE_SLUGS, langs=content.LANGS, edited=edited,
                  titles={(s, lg): content.get_page(s, lg).title for s in PAGE_SLUGS for lg in content.LANGS})


@bp.route("/website/pages/<slug>/<page_lang>", methods=["GET", "POST"])
@roles_required("admin")
def edit_page(slug, page_lang):
    if slug not in PAGE_SLUGS or page_lang not in content.LANGS:
        abort(404)
    page = content.get_page(slug, page_lang)
    errors = {}
    form = {"title": page.title, "body": page.body}
    if request.method == "POST":
        form = request.form.to_dict()
        if form.get("action") == "reset":
            with database.atomic():
                SitePage.delete().where((SitePage.slug == slug) & (SitePage.lang == page_lang)).execute()
                audit("delete", "website_page", f"{slug}.{page_lang}")
            flash(_("The page shows the original text again."), "success")
            return redirect(url_for("website.pages"))
        title = clean_text(form.get("title"))
        body = (form.get("body") or "").replace("\r\n", "\n").strip()
        if not title:
            errors["title"] = _("This field is required.")
        elif len(title) > 200:
            errors["title"] = _("Too long: at most %(n)s characters.", n=200)
        if not body:
            errors["body"] = _("This field is required.")
        elif len(body) > 50000:
            errors["body"] = _("Too long: at most %(n)s characters.", n=50000)
        if not errors:
            with database.atomic():
                row = SitePage.get_or_none((SitePage.slug == slug) & (SitePage.lang == page_lang))
                user = current_user._get_current_object()
                if row is None:
                    SitePage.create(slug=slug, lang=page_lang, title=title, body=body, updated_by=user)
                else:
                    SitePage.update(title=title, body=body, updated_by=user, updated_at=utcnow()).where(
                        SitePage.id == row.id).execute()
                audit("update", "website_page", f"{slug}.{page_lang}")
            flash(_("The page was saved."), "success")
            return redirect(url_for("website.pages"))
    preview = content.render_markup(form.get("body", ""))
    return render("website/staff/page_form.html", slug=slug, page_lang=page_lang, page=page, form=form,
                  errors=errors, preview=preview), (422 if errors else 200)


def _faq_values(form):
    errors = {}
    values = clean_texts(form, (("question_ar", 300, True), ("answer_ar", 5000, True), ("question_en", 300, False),
                                ("answer_en", 5000, False)), errors)
    try:
        values["position"] = int(form.get("position") or 0)
    except ValueError:
        errors["position"] = _("Enter a whole number.")
    values["published"] = bool(form.get("published"))
    return values, errors


@bp.route("/website/faq", methods=["GET", "POST"])
@roles_required("admin")
def faq_admin():
    form, errors = {"published": "1"}, {}
    if request.method == "POST":
        form = request.form.to_dict()
        values, errors = _faq_values(form)
        if not errors:
            with database.atomic():
                item = FaqItem.create(**values)
                audit("create", "website_faq", item.id)
            flash(_("The question was added."), "success")
            return redirect(url_for("website.faq_admin"))
    items = list(FaqItem.select().order_by(FaqItem.position, FaqItem.id))
    return render("website/staff/faq.html", items=items, form=form, errors=errors, item=None), (
        422 if errors else 200)


@bp.route("/website/faq/<int:item_id>", methods=["GET", "POST"])
@roles_required("admin")
def faq_edit(item_id):
    item = get_or_404(FaqItem, FaqItem.id == item_id)
    errors = {}
    form = {k: getattr(item, k) for k in ("question_ar", "answer_ar", "question_en", "answer_en", "position")}
    form["published"] = "1" if item.published else ""
    if request.method == "POST":
        form = request.form.to_dict()
        if form.get("action") == "delete":
            with database.atomic():
                FaqItem.delete().where(FaqItem.id == item.id).execute()
                audit("delete", "website_faq", item.id)
            flash(_("The question was deleted."), "success")
            return redirect(url_for("website.faq_admin"))
        values, errors = _faq_values(form)
        if not errors:
            with database.atomic():
                FaqItem.update(updated_at=utcnow(), **values).where(FaqItem.id == item.id).execute()
                audit("update", "website_faq", item.id)
            flash(_("The question was saved."), "success")
            return redirect(url_for("website.faq_admin"))
    return render("website/staff/faq_form.html", item=item, form=form, errors=errors), (422 if errors else 200)
