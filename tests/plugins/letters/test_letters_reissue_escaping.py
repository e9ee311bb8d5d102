"""A reissued letter trusts no stored value as markup: a typed field that starts with ``<bdi`` is text,
dates are drawn again by the code from their ISO value, the committee minutes from their session."""
from __future__ import annotations

from letters_helpers import make_case, pdf_text  # noqa: F401  (make_case is a fixture)

from portal.db import database

HOSTILE = '<bdi><b style="color:red">مزوّر</b></bdi>'


def test_reissued_letter_escapes_a_field_that_looks_like_markup(app, client, auth, make_case):
    from plugins.letters import service
    from plugins.letters.models import Letter

    make_case()
    auth.login("officer")
    response = client.post("/letters/issue", data={"template": "service_delivery", "ref": "1448-000001",
                                                   "service": HOSTILE, "delivery_date": "1448-06-01"})
    assert response.status_code in (302, 303)
    with app.app_context(), database.connection_context():
        old = Letter.get()
        assert old.fields["service"] == HOSTILE
    assert client.post(f"/letters/out/{old.id}/reissue").status_code == 303
    with app.test_request_context("/"), database.connection_context():
        new = Letter.get(Letter.id != old.id)
        values = service.reissue_fields(new)
        assert values["service"] == HOSTILE and not hasattr(values["service"], "__html__")  # plain text
        assert hasattr(values["delivery_date"], "__html__")  # the code's own <bdi>, drawn from the ISO date
        assert "1448" in str(values["delivery_date"])
    text = pdf_text(client.get(f"/letters/out/{new.id}/pdf").data)
    assert "style" in text and "bdi" in text and "مزو" in text  # the characters typed, not bold markup


def test_reissue_ignores_a_broken_stored_date(app, client, auth, make_case):
    from plugins.letters import service
    from plugins.letters.models import Letter

    make_case()
    auth.login("officer")
    client.post("/letters/issue", data={"template": "service_delivery", "ref": "1448-000001",
                                        "service": "سلة", "delivery_date": "1448-06-01"})
    with app.test_request_context("/"), database.connection_context():
        letter = Letter.get()
        letter.fields = {**letter.fields, "delivery_date__raw": "not-a-date", "delivery_date": "<bdi>x</bdi>"}
        values = service.reissue_fields(letter)
        assert "delivery_date__raw" not in values and values["delivery_date"] == "<bdi>x</bdi>"
