"""The channels' lists page with keysets too (portal.listing): the outgoing letters registry (letters
plugin) and the website messages (website plugin). The core's requests and outreach lists are tested in
tests/workflow/test_lists.py, the call log in tests/plugins/phone/test_phone_desk.py."""
from __future__ import annotations

import datetime as dt
import re

from portal.db import database, utcnow


def ids_and_next(client, url, pattern):
    html = client.get(url).get_data(as_text=True)
    found = re.search(r'<a class="next" rel="next" href="([^"]+)"', html)
    return re.findall(pattern, html), (found.group(1).replace("&amp;", "&") if found else None), html


def test_outgoing_letters_registry_is_keyset_paged_and_sorted(app, client, auth):
    from plugins.letters.models import Letter

    start = utcnow() - dt.timedelta(days=100)
    with app.app_context(), database.connection_context():
        Letter.insert_many([{"number": f"1448/{n:05d}", "hijri_year": 1448, "sequence": n, "subject": "إفادة",
                             "issued_at": start + dt.timedelta(hours=n // 3), "pdf_sha256": "0" * 64,
                             "pdf_size": 1, "verify_code": "x", "status": "revoked" if n % 4 == 0 else "valid"}
                            for n in range(1, 121)]).execute()
    auth.login("officer")
    seen, url = [], "/letters/?status=valid"
    while url:
        numbers, url, html = ids_and_next(client, url, r"<bdi>1448/(\d{5})</bdi></a>")
        assert url is None or "status=valid" in url
        seen += numbers
    expected = [n for n in range(1, 121) if n % 4]
    assert len(seen) == len(expected) and len(set(seen)) == len(expected)
    assert [int(n) for n in seen] == sorted(expected, key=lambda n: (n // 3, n), reverse=True)
    by_number, _next, html = ids_and_next(client, "/letters/?sort=number&dir=asc&lang=en",
                                          r"<bdi>1448/(\d{5})</bdi></a>")
    assert by_number[:3] == ["00001", "00002", "00003"] and "<bdi>120</bdi> letters" in html
    assert 'data-label="Number"' in html and "page=" not in html
    bad = client.get("/letters/?from=1448-13-40")
    assert bad.status_code == 422


def test_website_messages_are_paged_filtered_and_sorted(app, client, auth):
    from plugins.website.models import Inquiry

    now = utcnow()
    with app.app_context(), database.connection_context():
        Inquiry.insert_many([{"reference": f"Q{n:05d}", "kind": "complaint" if n % 2 else "inquiry", "name": "زائر",
                              "subject": "سؤال", "body": "نص", "status": "open" if n % 5 else "answered",
                              "due_at": now + dt.timedelta(hours=n), "created_at": now - dt.timedelta(hours=n)}
                             for n in range(1, 131)]).execute()
    auth.login("officer")
    refs, url, html = ids_and_next(client, "/website/inbox?kind=complaint", r"<bdi>Q(\d{5})</bdi></a>")
    open_complaints = [n for n in range(1, 131) if n % 2 and n % 5]
    assert [int(r) for r in refs] == open_complaints[:50]  # soonest due first
    assert "kind=complaint" in url
    rest, last, _html = ids_and_next(client, url, r"<bdi>Q(\d{5})</bdi></a>")
    assert [int(r) for r in rest] == open_complaints[50:] and last is None
    everything, _url, html = ids_and_next(client, "/website/inbox?show=all&sort=received&lang=en",
                                          r"<bdi>Q(\d{5})</bdi></a>")
    assert everything[:2] == ["00001", "00002"] and "<bdi>130</bdi> messages" in html
    fragment = client.get("/website/inbox?kind=inquiry", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="inbox">')
