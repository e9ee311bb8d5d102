"""Property-based checks of the public site's forms (hypothesis): whatever a visitor types into any field of
the apply steps, tracking, the one-time code, resuming, asking or volunteering (NUL and control characters,
direction marks, non-ASCII digits, very long strings...), the site never answers a server error (5xx).

The fields are read from each form as served (hidden fields such as the form stamp keep their served
value); the later apply steps are fuzzed with a draft whose first steps were filled correctly.
Bounded and repeatable: ``MAX_EXAMPLES`` per form, a fixed seed, no deadline, no example database.
"""
from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, seed, settings

from fuzz_text import form_values
from website_helpers import APPLICANT, HOUSEHOLD, app_config, food_basket_answers, start_application, types  # noqa: F401

MAX_EXAMPLES = 30
_FIELD = re.compile(r'<(input|select|textarea)\b([^>]*)>', re.S)


def _attr(attrs: str, name: str) -> str | None:
    m = re.search(rf'\b{name}="([^"]*)"', attrs)
    return m.group(1) if m else None


def served_form(client, url: str) -> tuple[dict, list[str]]:
    """(hidden fields with their values, names of the fields a visitor fills) of the form posting to url."""
    html = client.get(url).get_data(as_text=True)
    forms = [m for m in re.finditer(r'<form\b([^>]*)>(.*?)</form>', html, re.S)
             if (_attr(m.group(1), "action") or url).split("?")[0] == url
             and (_attr(m.group(1), "method") or "get").lower() == "post"]
    assert forms, f"no form posting to {url}"
    hidden, typed = {}, []
    for form in forms:
        for _, attrs in _FIELD.findall(form.group(2)):
            name = _attr(attrs, "name")
            if not name or name in ("csrf_token", "website_url"):  # website_url: the honeypot, left empty
                continue
            if _attr(attrs, "type") == "hidden":
                hidden[name] = _attr(attrs, "value") or ""
            elif name not in typed:
                typed.append(name)
    return hidden, typed


def fuzz(client, url: str, extra_fields=(), valid=None):
    """Post arbitrary text in every field of the form at url; returns the server errors met."""
    hidden, typed = served_form(client, url)
    fields = list(dict.fromkeys([*typed, *extra_fields]))
    assert fields, f"{url}: no field to fill"
    errors, statuses = [], []

    @seed(20261130)
    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(values=form_values(fields, valid))
    def run(values):
        stamp = served_form(client, url)[0] if "form_stamp" in hidden else hidden
        response = client.post(url, data={**stamp, **values})
        statuses.append(response.status_code)
        if response.status_code >= 500:
            errors.append(f"POST {url} {values!r}: {response.status_code}")

    run()
    assert len(statuses) >= MAX_EXAMPLES // 2, statuses  # the form was really posted, many times
    return errors


ASK = {"kind": "inquiry", "name": "سائل", "mobile": "0501234567", "subject": "موضوع", "body": "نص السؤال"}
VOLUNTEER = {"name": "متطوع", "mobile": "0501234567", "city": "الطائف", "skills": "قيادة", "consent": "1"}
PUBLIC_FORMS = [
    ("/site/ask", (), ASK),
    ("/site/volunteer", (), VOLUNTEER),
    ("/site/track", ("token",), {"national_id": APPLICANT["national_id"]}),
    ("/site/apply/resume", (), {"national_id": APPLICANT["national_id"]}),
    ("/site/apply/applicant", ("action",), {**APPLICANT, "action": "next"}),
]


@pytest.mark.parametrize("url,extra,valid", PUBLIC_FORMS, ids=[u for u, _, _ in PUBLIC_FORMS])
def test_public_form_never_answers_a_server_error(app, client, types, url, extra, valid):
    assert not fuzz(client, url, extra, valid)


def test_tracking_code_form_never_answers_a_server_error(app, client, types):
    """The one-time code step, reached the way a visitor reaches it: a tracked request first."""
    errors = fuzz(client, "/site/track", ("token",))
    # Whether or not a code is pending, the code form must hold against anything typed into it.
    response = client.post("/site/track/code", data={"code": "\x00\u0661\u0662"})
    assert response.status_code < 500
    assert not errors


@pytest.mark.parametrize("step", ["household", "request", "declaration", "review"])
def test_later_apply_steps_never_answer_a_server_error(app, client, types, step):
    """The steps after the first, on a draft whose earlier steps were filled correctly."""
    response = start_application(client)
    assert response.status_code == 302, response.status_code
    if step != "household":
        assert client.post("/site/apply/household", data=HOUSEHOLD).status_code == 302
    if step in ("declaration", "review"):
        r = client.post("/site/apply/request", data={"request_type": "food_basket", "summary": "سلة غذائية",
                                                     **food_basket_answers(app)})
        assert r.status_code == 302
    extra = {"household": ("m0_name", "m0_relation", "m0_birth_date", "m1_name", "action"),
             "request": ("action",), "declaration": ("accepted", "consent", "action"),
             "review": ("action",)}[step]
    url = f"/site/apply/{step}"
    if step == "review":
        # The review step shows the draft and posts only its action; what it can receive is fuzzed.
        errors = []

        @seed(20261130)
        @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(values=form_values(extra))
        def run(values):
            r = client.post(url, data=values)
            if r.status_code >= 500:
                errors.append(f"POST {url} {values!r}: {r.status_code}")

        run()
        assert not errors
        return
    valid = {"household": {**HOUSEHOLD, "action": "next"},
             "request": {"request_type": "food_basket", "summary": "سلة غذائية", **food_basket_answers(app)},
             "declaration": {"accepted": "1", "consent": "1"}}[step]
    assert not fuzz(client, url, extra, valid)
