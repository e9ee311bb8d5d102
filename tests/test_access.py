"""The route x role access table: every route is declared, and every declaration holds for every role."""
import importlib
import pkgutil

import pytest

import access as access_pkg
from access import ROLES, endpoint_of
from portal.db import database

PATHS = [m.name for m in pkgutil.iter_modules(access_pkg.__path__)]


def load_table():
    table, fixtures = {}, []
    for name in PATHS:
        module = importlib.import_module(f"access.{name}")
        overlap = set(table) & set(module.ACCESS)
        assert not overlap, f"endpoints declared twice: {overlap}"
        table.update(module.ACCESS)
        if hasattr(module, "FIXTURES"):
            fixtures.append(module.FIXTURES)
    return table, fixtures


TABLE, FIXTURE_FUNCS = load_table()


def test_every_route_is_declared(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules()}
    declared = {endpoint_of(key) for key in TABLE}
    missing = sorted(endpoints - declared)
    assert not missing, f"routes without an access rule in tests/access/: {missing}"
    stale = sorted(declared - endpoints)
    assert not stale, f"access rules for routes that do not exist: {stale}"


@pytest.fixture
def placeholders(app, users, make_beneficiary):
    from portal.api import create_token
    from portal.models import Document, TimelineEntry, User

    ben = make_beneficiary(branch="TAIF")
    other = make_beneficiary(branch="MKK")
    with app.app_context(), database.connection_context():
        entry = TimelineEntry.create(beneficiary=ben, channel="phone", summary="x")
        import io

        from werkzeug.datastructures import FileStorage

        from portal.uploads import store_upload

        from pdf_samples import MINIMAL_PDF as pdf
        stored = store_upload(FileStorage(io.BytesIO(pdf), filename="a.pdf"))
        doc = Document.create(beneficiary=ben, kind="other", file_sha256=stored.sha256, file_name="a.pdf",
                              content_type=stored.content_type, size=stored.size)
        values = {"ben": ben, "ben_other": other, "entry": entry.id, "doc": doc.id, "user": users["officer"]}
        for func in FIXTURE_FUNCS:
            values.update(func(app))
        tokens = {role: create_token(User.get_by_id(uid), "access-test") for role, uid in users.items()}
    return values, tokens


def _request(client, spec, url, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if spec["method"] == "GET":
        return client.get(url, headers=headers)
    return client.open(url, method=spec["method"], headers=headers, data={}, json=None)


@pytest.mark.parametrize("endpoint", sorted(TABLE))
def test_access_rule(app, client, auth, placeholders, endpoint):
    values, tokens = placeholders
    spec = TABLE[endpoint]
    url = spec["url"].format(**values)
    is_api = url.startswith("/api/")
    # anonymous
    response = _request(client, spec, url)
    expected = spec["anonymous"]
    if expected == "login":
        assert response.status_code == 302 and "/login" in response.headers["Location"], response.status_code
    elif expected == "ok":
        assert response.status_code < 400 or response.status_code in (404, 422), response.status_code
    else:
        assert response.status_code == int(expected)
    for role in ROLES:
        if is_api:
            response = _request(client, spec, url, token=tokens[role])
        else:
            auth.login(role)
            response = _request(client, spec, url)
        if role in spec["hidden"]:
            assert response.status_code == 404, f"{role} on {endpoint}: expected 404, got {response.status_code}"
        elif role in spec["allowed"]:
            assert response.status_code not in (401, 403), f"{role} refused on {endpoint}"
            if response.status_code == 302 and not spec["signs_out"]:
                assert "/login" not in response.headers["Location"], f"{role} sent to login on {endpoint}"
        else:
            assert response.status_code == spec["denied"], (
                f"{role} on {endpoint}: expected {spec['denied']}, got {response.status_code}")
        if not is_api:
            auth.logout()
