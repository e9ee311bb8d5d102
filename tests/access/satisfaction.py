"""Access rules of the satisfaction surveys: the public rating page (no account), the staff form, the managers'
report, the admins' questions and the summary API."""
from . import STAFF, rule

RECORD = ("officer", "delegate", "researcher", "admin")
REPORT = ("manager", "admin")

ACCESS = {
    "static@satisfaction_css": rule("GET", "/static/css/satisfaction.css", STAFF, anonymous="ok"),
    # Public: anyone holding the link (a signed token); the same answer for every role.
    "satisfaction_public.rate": rule("GET", "/site/rate/{survey_token}", STAFF, anonymous="ok"),
    "satisfaction_public.thanks": rule("GET", "/site/rate/{survey_token}/thanks", STAFF, anonymous="ok"),
    "satisfaction_public.public_opt_out": rule("POST", "/site/rate/{survey_token_other}/opt-out", STAFF,
                                               anonymous="ok"),
    "satisfaction.record": rule("GET", "/beneficiaries/{ben}/survey", RECORD),
    "satisfaction.record@other_branch": rule("GET", "/beneficiaries/{ben_other}/survey",
                                             ("officer", "admin")),
    "satisfaction.opt_out": rule("POST", "/beneficiaries/{ben}/survey/opt-out", RECORD),
    "satisfaction.report": rule("GET", "/satisfaction/", REPORT),
    "satisfaction.tag_comment": rule("POST", "/satisfaction/comments/{survey_answer}/theme", REPORT),
    "satisfaction.questions": rule("GET", "/admin/satisfaction/questions", ("admin",)),
    "satisfaction_api.summary": rule("GET", "/api/v1/satisfaction/summary", REPORT, anonymous="401"),
}


def FIXTURES(app):
    """``{survey_token}`` and ``{survey_token_other}``: the links of two open surveys; ``{survey_answer}``: an
    answer with a comment."""
    from portal.models import Beneficiary
    from portal.satisfaction import service

    tokens = {}
    for name, ben in zip(("survey_token", "survey_token_other"), Beneficiary.select().order_by(Beneficiary.id)):
        survey = service.offer(beneficiary=ben, kind="call", source=f"access:{name}", send=False, force=True)
        tokens[name] = service.token_for(survey)
    # ``{survey_answer}``: an answer with a comment, for the managers' theme tag
    desk = service.offer(beneficiary=Beneficiary.select().first(), kind="call", source="access:answer", send=False,
                         force=True)
    answer = service.record_answer(desk, service.AnswerInput(4, None, {}, "تعليق", False, False), via="desk")
    tokens["survey_answer"] = answer.id
    return tokens

