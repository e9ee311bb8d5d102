"""The route x role access table, one module per area (core, each plugin, ...).

Each module defines ``ACCESS = {endpoint: rule(...)}``; ``tests/test_access.py`` merges them into one
table, fails for any route of ``app.url_map`` that is not declared, and checks every declared rule for
every role and for an anonymous visitor.

URL placeholders filled by the test: ``{ben}`` a beneficiary of branch TAIF (the delegate's branch),
``{ben_other}`` one of branch MKK, ``{entry}`` a timeline entry of ``{ben}``, ``{doc}`` a document of ``{ben}``,
``{user}`` the officer's user id. Areas may add their own through ``FIXTURES`` (a function taking the app
and returning a dict of extra placeholders), called inside an app context with a connection.

Branch and assignment cases: a key ``"endpoint@case"`` declares one more check of the same route with
other placeholders (``"beneficiaries.profile@other_branch"`` with ``{ben_other}``: the TAIF delegate is
refused the MKK file; ``"cases.show@unassigned"``: the researcher is refused a request not assigned to
them). ``hidden``: roles that pass the role check but must be answered 404 (the API hides what a user may
not see rather than refusing it).
"""
STAFF = ("admin", "officer", "researcher", "committee", "delegate", "manager")
ROLES = STAFF
NOBODY = ()


def rule(method: str, url: str, allowed, anonymous: str = "login", denied_status: int = 403,
         signs_out: bool = False, hidden=()):
    """``allowed``: roles that get through; others must get ``denied_status``.

    ``anonymous``: "login" (redirected to the sign-in page), "ok" (public), or a status code as text
    ("401" for the API, "403" for a webhook without its token, ...).
    """
    return {"method": method, "url": url, "allowed": frozenset(allowed), "anonymous": anonymous,
            "denied": denied_status, "signs_out": signs_out, "hidden": frozenset(hidden)}


def endpoint_of(key: str) -> str:
    """``"cases.show@unassigned"`` -> ``"cases.show"``."""
    return key.split("@", 1)[0]
