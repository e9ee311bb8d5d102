"""The timeline's pages on the beneficiary's file: the timeline itself (filtered, paged with htmx) and the
contact form. They sit above ``timeline.py`` (the service every channel writes through) and
``beneficiaries.py`` (the profile page that shows the form again when it is wrong), so neither imports
the other's pages."""
from __future__ import annotations

import datetime as dt

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from jinja2_fragments.flask import render_block

from .audit import audit
from .auth import CONTACT_ROLES, STAFF_ROLES, roles_required
from .beneficiaries import profile_context
from .dates import from_saudi, parse_date
from .db import utcnow
from .models import Case
from .templating import render
from .text import clean_text
from .timeline import bp, contact_form_for, load_entry, log_entry, render_entry, timeline_context, visible_beneficiary


@bp.get("/beneficiaries/<int:ben_id>/timeline")
@roles_required(*STAFF_ROLES)
def timeline(ben_id):
    ben = visible_beneficiary(ben_id)
    ctx = timeline_context(ben)
    audit("read", "timeline", ben.id)
    if request.htmx and not request.htmx.boosted and not request.htmx.history_restore_request:
        block = "timeline_more" if request.args.get("before") else "timeline"
        return render_block("beneficiaries/_timeline.html", block, ben=ben, **ctx)
    return render("beneficiaries/timeline.html", ben=ben, **ctx)


@bp.post("/beneficiaries/<int:ben_id>/contacts")
@roles_required(*CONTACT_ROLES)
def log_contact(ben_id):
    ben = visible_beneficiary(ben_id)
    form = contact_form_for(ben, request.form)
    valid = form.validate()
    occurred = form.occurred_at.data
    if occurred is not None:
        occurred = from_saudi(occurred)  # typed in Saudi time, stored UTC
        if occurred > utcnow() + dt.timedelta(minutes=5):
            form.occurred_at.errors = [*form.occurred_at.errors, _("A contact cannot be in the future.")]
            valid = False
    if not valid:
        if request.htmx:
            return render_template("beneficiaries/_contact_form.html", ben=ben, contact_form=form), 422
        return render("beneficiaries/profile.html", **profile_context(ben, contact_form=form)), 422
    case = Case.get_or_none((Case.id == int(form.case.data)) & (Case.beneficiary == ben)) if form.case.data else None
    entry = log_entry(
        channel=form.channel.data, direction=form.direction.data, occurred_at=occurred,
        summary=clean_text(form.summary.data), body=clean_text(form.body.data), beneficiary=ben, case=case,
        actor=current_user._get_current_object(), follow_up_due=parse_date(form.follow_up_due.data),
    )
    if request.htmx:
        fresh = contact_form_for(ben)
        entry = load_entry(entry.id)
        return render(
            "beneficiaries/contact_logged.html", ben=ben, entry=entry, contact_form=fresh,
            render_entry=render_entry,
        )
    flash(_("The contact was logged."), "success")
    return redirect(url_for("beneficiaries.profile", ben_id=ben.id) + "#timeline")
