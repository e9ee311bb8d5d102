"""The survey's pages: the public page ``/site/rate/<token>`` (no account, no script needed; served by the core
whether or not the website plugin is enabled), the staff form for an answer given by phone or at the desk,
the managers' report and the admins' question sets."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from ..auth import roles_required
from ..charts import Series, bar_chart, swatch
from ..dates import saudi_today
from ..db import utcnow
from ..labels import label
from ..listing import date_range
from ..models import Beneficiary, Branch, User
from ..plugins import channel_map
from ..timeline import visible_beneficiary
from ..templating import render
from . import metrics, service
from .models import RECORD_ROLES, REPORT_ROLES
from .labels import DIMENSION_LABELS, SERVICE_KIND_LABELS
from .models import DIMENSIONS, SERVICE_KINDS, Survey, SurveyAnswer, SurveyQuestionSet

public = Blueprint("satisfaction_public", __name__)
bp = Blueprint("satisfaction", __name__)


def _lang() -> str:
    return str(get_locale() or "ar")


# --- the public page ------------------------------------------------------------------------------------

def _closed_page(survey, state: str, code: int = 200):
    return render("satisfaction/public_closed.html", state=state, survey=survey), code


def _form_context(survey, values=None, errors=None):
    qset = SurveyQuestionSet.get_by_id(survey.question_set_id)
    lang = _lang()
    return {"survey": survey, "qset": qset, "text": lambda key: service.question_text(qset, key, lang),
            "dims": [d for d in DIMENSIONS if d in (qset.dimensions or [])], "values": values or {},
            "errors": errors or {}, "token": request.view_args.get("token"),
            "via_qr": request.args.get("via") == "qr" or request.form.get("via") == "qr"}


@public.route("/site/rate/<token>", methods=["GET", "POST"])
def rate(token):
    survey = service.survey_for_token(token)
    if survey is None:
        return _closed_page(None, "invalid", 404)
    state = service.state_of(survey)
    if service.is_opted_out(survey.beneficiary_id):
        return _closed_page(survey, "opted_out")
    if state != "open":
        return _closed_page(survey, state, 200 if state == "answered" else 410)
    if request.method == "GET":
        return render("satisfaction/public_form.html", **_form_context(survey))
    qset = SurveyQuestionSet.get_by_id(survey.question_set_id)
    form = request.form.to_dict()
    try:
        values = service.clean_answer(form, qset)
        service.record_answer(survey, values, via="qr" if form.get("via") == "qr" else "link")
    except service.SurveyError as exc:
        fresh = Survey.get_by_id(survey.id)
        if fresh.answered_at is not None:
            return _closed_page(fresh, "answered")
        if exc.errors:
            flash(str(exc.message), "error")
        else:
            return _closed_page(fresh, service.state_of(fresh), 410)
        form["comment"] = (form.get("comment") or "")[:service.COMMENT_MAX * 2]
        return render("satisfaction/public_form.html", **_form_context(survey, form, exc.errors)), 422
    return redirect(url_for("satisfaction_public.thanks", token=token))


@public.get("/site/rate/<token>/thanks")
def thanks(token):
    survey = service.survey_for_token(token)
    if survey is None:
        return _closed_page(None, "invalid", 404)
    if survey.answered_at is None:
        return redirect(url_for("satisfaction_public.rate", token=token))
    answer = SurveyAnswer.get_or_none(SurveyAnswer.survey == survey.id)
    complaint = _complaint_of(answer)
    recovery = answer is not None and bool(answer.complaint_id or answer.wants_complaint or answer.overall <= 2)
    due = complaint.deadline if complaint is not None else None
    return render("satisfaction/public_thanks.html", survey=survey, answer=answer, complaint=complaint,
                  recovery=recovery, due=due, token=token)


def _complaint_of(answer):
    """The complaint a low score opened: who will contact the beneficiary and by when."""
    if answer is None or not answer.complaint_id:
        return None
    from ..complaints import Complaint

    return Complaint.get_or_none(Complaint.id == answer.complaint_id)


@public.post("/site/rate/<token>/opt-out")
def public_opt_out(token):
    survey = service.survey_for_token(token)
    if survey is None:
        return _closed_page(None, "invalid", 404)
    service.opt_out(Beneficiary.get_by_id(survey.beneficiary_id), via="link")
    return _closed_page(survey, "opted_out")


# --- staff: an answer given by phone or at the desk -----------------------------------------------------

def _open_survey_for(ben: Beneficiary):
    """The beneficiary's latest unanswered survey (even past its link's end: they are answering in person)."""
    return (Survey.select().where((Survey.beneficiary == ben.id) & Survey.answered_at.is_null())
            .order_by(Survey.created_at.desc()).first())


@bp.route("/beneficiaries/<int:ben_id>/survey", methods=["GET", "POST"])
@roles_required(*RECORD_ROLES)
def record(ben_id):
    ben = visible_beneficiary(ben_id)
    if service.is_opted_out(ben.id):
        flash(_("This beneficiary asked not to be surveyed. Record their wish to take part again first."), "error")
        return redirect(url_for("beneficiaries.profile", ben_id=ben.id))
    survey = _open_survey_for(ben)
    qset = SurveyQuestionSet.get_by_id(survey.question_set_id) if survey else service.current_question_set()
    lang = _lang()
    context = {"ben": ben, "survey": survey, "qset": qset, "values": {}, "errors": {},
               "text": lambda key: service.question_text(qset, key, lang),
               "dims": [d for d in DIMENSIONS if d in (qset.dimensions or [])], "kinds": SERVICE_KINDS,
               "kind_labels": SERVICE_KIND_LABELS}
    if request.method == "GET":
        return render("satisfaction/record.html", **context)
    form = request.form.to_dict()
    context["values"] = form
    via = form.get("via")
    errors = {}
    if via not in ("call", "desk"):
        errors["via"] = _("Say how the beneficiary gave the answer.")
    try:
        values = service.clean_answer(form, qset)
    except service.SurveyError as exc:
        errors.update(exc.errors)
    if errors:
        context["errors"] = errors
        flash(_("The answer was not saved. Check the fields marked below."), "error")
        return render("satisfaction/record.html", **context), 422
    actor = current_user._get_current_object()
    if survey is None:
        kind = form.get("kind") if form.get("kind") in SERVICE_KINDS else "call" if via == "call" else "conversation"
        survey = service.offer(beneficiary=ben, kind=kind, source=f"staff:{ben.id}:{utcnow():%Y%m%d%H%M%S%f}",
                               staff=actor, send=False, force=True)
        if survey is None:  # the file was erased or the beneficiary opted out meanwhile
            flash(_("This beneficiary asked not to be surveyed."), "error")
            return redirect(url_for("beneficiaries.profile", ben_id=ben.id))
    try:
        service.record_answer(survey, values, via=via, actor=actor)
    except service.SurveyError as exc:
        flash(str(exc.message), "error")
        return render("satisfaction/record.html", **context), 409
    flash(_("The answer was recorded. Thank you."), "success")
    return redirect(url_for("beneficiaries.profile", ben_id=ben.id))


@bp.post("/beneficiaries/<int:ben_id>/survey/opt-out")
@roles_required(*RECORD_ROLES)
def opt_out(ben_id):
    ben = visible_beneficiary(ben_id)
    actor = current_user._get_current_object()
    if request.form.get("opt") == "in":
        service.opt_in(ben, actor=actor)
        flash(_("The beneficiary can be offered surveys again."), "success")
    else:
        service.opt_out(ben, via="desk", actor=actor)
        flash(_("The beneficiary will not be offered surveys."), "success")
    return redirect(url_for("beneficiaries.profile", ben_id=ben.id))


# --- the managers' report -------------------------------------------------------------------------------

def _group_label(group: str, key, names: dict) -> str:
    if key in (None, ""):
        return _("Not recorded")
    if group == "channel":
        info = channel_map().get(key)
        if info:
            return info["label_ar"] if _lang() == "ar" else info["label_en"]
        return _("System") if key == "system" else str(key)
    if group == "service":
        from ..labels import REQUEST_TYPE

        if key in SERVICE_KIND_LABELS:
            return str(SERVICE_KIND_LABELS[key])
        return str(label(REQUEST_TYPE, key))
    if group in ("branch", "staff"):
        return names.get((group, key), str(key))
    return str(key)


def _names(groups: dict) -> dict:
    names = {}
    branch_ids = [r.key for r in groups.get("branch", []) if r.key]
    staff_ids = [r.key for r in groups.get("staff", []) if r.key]
    lang = _lang()
    if branch_ids:
        for b in Branch.select().where(Branch.id.in_(branch_ids)):
            names[("branch", b.id)] = b.name_ar if lang == "ar" or not b.name_en else b.name_en
    if staff_ids:
        for u in User.select(User.id, User.full_name).where(User.id.in_(staff_ids)):
            names[("staff", u.id)] = u.full_name
    return names


SCORE_SERIES = [Series(str(n), str(n), f"score-{n}") for n in range(1, 6)]


@bp.get("/satisfaction/")
@roles_required(*REPORT_ROLES)
def report():
    errors: dict = {}
    first, last = date_range(request.args, errors)
    if not request.args.get("from") and not request.args.get("to") and not errors:
        last = saudi_today()  # the Saudi day: after midnight in Riyadh the server's date is still yesterday
        first = last - dt.timedelta(days=364)
    channel = (request.args.get("channel") or "").strip()
    if channel and channel not in channel_map() and channel != "system":
        errors["channel"] = _("Unknown channel.")
        channel = ""
    totals = metrics.total(first=first, last=last, channel=channel)
    groups = {g: metrics.figures(g, first=first, last=last, channel=channel) for g in metrics.GROUPS}
    names = _names(groups)
    rtl = _lang() == "ar"
    charts = {}
    titles = {"channel": _("By channel"), "service": _("By service"), "branch": _("By branch"),
              "month": _("By month"), "staff": _("By staff member")}
    for group, rows in groups.items():
        visible = [r for r in rows if not r.hidden]
        charts[group] = bar_chart([(_group_label(group, r.key, names), {str(n): r.scores.get(n, 0) for n in range(1, 6)})
                                   for r in visible], SCORE_SERIES, title=titles[group], rtl=rtl) if visible else None
    comments = _comments(first, last, channel)
    themes, theme_label, comment_groups = _themes_and_groups(comments)
    return render("satisfaction/report.html", totals=totals, groups=groups, charts=charts, titles=titles,
                  names=names, label_of=_group_label, errors=errors, first=first, last=last, channel=channel,
                  channels=channel_map(), k=metrics.min_answers(), dims=DIMENSIONS, comment_groups=comment_groups,
                  themes=themes, theme_label=theme_label, dim_labels=DIMENSION_LABELS, swatch=swatch,
                  args=request.args)


def _themes_and_groups(comments):
    """The managers' theme tags (the feedback themes of the complaints register) and the comments grouped by
    them, the untagged ones last."""
    from ..complaints.models import FeedbackTheme

    themes = list(FeedbackTheme.select().where(FeedbackTheme.active).order_by(FeedbackTheme.name_ar))
    by_id = {t.id: t for t in themes}
    lang = _lang()

    def theme_label(theme) -> str:
        return theme.name_en if lang == "en" and theme.name_en else theme.name_ar

    groups: dict = {}
    for c in comments:
        c["theme_ids"] = [c["theme"]] if c.get("theme") else []
        groups.setdefault(c.get("theme") if c.get("theme") in by_id else None, []).append(c)
    ordered = [{"label": theme_label(t), "comments": groups[t.id]} for t in themes if t.id in groups]
    if None in groups:
        ordered.append({"label": _("No theme yet"), "comments": groups[None]})
    return themes, theme_label, ordered


@bp.post("/satisfaction/comments/<int:answer_id>/theme")
@roles_required(*REPORT_ROLES)
def tag_comment(answer_id):
    """A manager tags a comment with a feedback theme (or removes the tag)."""
    from ..audit import audit
    from ..complaints.models import FeedbackTheme
    from ..db import database
    from ..hygiene import get_or_404

    answer = get_or_404(SurveyAnswer, SurveyAnswer.id == answer_id)
    raw = (request.form.get("theme") or "").strip()
    theme = None
    if raw:
        theme = FeedbackTheme.get_or_none((FeedbackTheme.id == int(raw)) & FeedbackTheme.active) if raw.isdigit() \
            else None
        if theme is None:
            flash(_("Choose one of the themes."), "error")
            return redirect(url_for("satisfaction.report") + "#sat-comments")
    with database.atomic():
        SurveyAnswer.update(theme=theme).where(SurveyAnswer.id == answer.id).execute()
        audit("update", "survey_answer", answer.id, {"theme": theme.id if theme else None})
    flash(_("The comment's theme was saved."), "success")
    return redirect(url_for("satisfaction.report") + "#sat-comments")


def _comments(first, last, channel, limit: int = 100):
    """The latest comments, with the month and the channel only: never who wrote them or their score."""
    from ..listing import in_saudi_days

    query = (SurveyAnswer.select(SurveyAnswer.id, SurveyAnswer.comment, SurveyAnswer.month, SurveyAnswer.theme,
                                 Survey.channel)
             .join(Survey, on=(SurveyAnswer.survey == Survey.id))
             .where(SurveyAnswer.comment != ""))
    query = in_saudi_days(query, SurveyAnswer.at, first, last)
    if channel:
        query = query.where(Survey.channel == channel)
    return list(query.order_by(SurveyAnswer.at.desc()).limit(limit).dicts())


# --- the admins' question sets --------------------------------------------------------------------------

@bp.route("/admin/satisfaction/questions", methods=["GET", "POST"])
@roles_required("admin")
def questions():
    current = service.current_question_set()
    history = list(SurveyQuestionSet.select().order_by(SurveyQuestionSet.version.desc()).limit(50))
    if request.method == "GET":
        values = {f"{k}_{lang}": service.question_text(current, k, lang) for k in service.DEFAULT_TEXTS
                  for lang in ("ar", "en")}
        return render("satisfaction/questions.html", current=current, history=history, values=values, errors={},
                      dims=DIMENSIONS, chosen=set(current.dimensions or []), question_labels=_question_labels())
    form = request.form
    texts = {k: {lang: form.get(f"{k}_{lang}", "") for lang in ("ar", "en")} for k in service.DEFAULT_TEXTS}
    try:
        row = service.save_question_set(texts, form.getlist("dimensions"), form.get("note", ""),
                                        current_user._get_current_object())
    except service.SurveyError as exc:
        flash(str(exc.message), "error")
        return render("satisfaction/questions.html", current=current, history=history, values=form.to_dict(),
                      errors=exc.errors, dims=DIMENSIONS, chosen=set(form.getlist("dimensions")),
                      question_labels=_question_labels()), 422
    flash(_("Version %(n)s of the questions is now in use.", n=row.version), "success")
    return redirect(url_for("satisfaction.questions"))


def _question_labels() -> dict:
    return {"overall": _("Overall satisfaction (1-5)"), "recommend": _("Likelihood to recommend (0-10)"),
            **{k: str(v) for k, v in DIMENSION_LABELS.items()}, "comment": _("Free comment")}
