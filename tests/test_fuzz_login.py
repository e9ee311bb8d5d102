"""Property-based check of the sign-in form (hypothesis): whatever is typed as user name, password or
``next`` (NUL and control characters, direction marks, non-ASCII digits, very long strings...), signing in
never answers a server error (5xx). Bounded and repeatable: a fixed seed, no deadline, no example database."""
from __future__ import annotations

from urllib.parse import quote

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from conftest import PASSWORD
from fuzz_text import TEXT, form_values

MAX_EXAMPLES = 60


def test_login_form_never_answers_a_server_error(app, client, users):
    statuses, errors = [], []

    @seed(20261130)
    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(values=form_values(("username", "password", "remember"),
                              {"username": "officer", "password": PASSWORD, "remember": "y"}),
           next_url=st.one_of(st.none(), TEXT))
    def run(values, next_url):
        url = "/login" if next_url is None else "/login?next=" + quote(next_url[:2000], safe="")
        response = client.post(url, data=values)
        statuses.append(response.status_code)
        if response.status_code >= 500:
            errors.append(f"POST {url[:200]} {values!r:.300}: {response.status_code}")
        if response.status_code == 302:
            location = response.headers["Location"]
            assert location.startswith("/") and not location.startswith("//"), location  # never off-site
            client.post("/logout")

    run()
    assert not errors, "\n".join(errors)
    assert len(statuses) >= MAX_EXAMPLES // 2, statuses
    assert 302 in statuses and set(statuses) - {302}, statuses  # some signed in, some were refused
