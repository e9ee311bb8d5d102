"""Lists that scale (portal.listing): the requests list and the outreach queue are keyset-paged, filtered,
sorted, counted with a cap, and work without JavaScript (links and GET forms) and with htmx (the list
only). Outreach tasks have an assignee: "assign to me", the "mine" filter."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from playhouse.test_utils import count_queries

from portal.db import database, utcnow


def text_of(response) -> str:
    html = response.get_data(as_text=True)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def next_link(html: str) -> str | None:
    found = re.search(r'<a class="next" rel="next" href="([^"]+)"', html)
    return found.group(1).replace("&amp;", "&") if found else None


@pytest.fixture
def many_cases(wf):
    """130 requests of one beneficiary, written directly (the list reads, it does not move cases)."""
    from portal.models import Case

    ben = wf.beneficiary(branch="TAIF")
    start = utcnow() - dt.timedelta(days=200)
    rows = [{"reference": f"{n:06d}-1448", "beneficiary": ben.id, "request_type": "food_basket",
             "channel": "interview" if n % 2 else "phone", "status": "submitted" if n % 3 else "approved",
             "status_changed_at": start + dt.timedelta(hours=n // 2),  # pairs share a time: the id breaks ties
             "created_at": start + dt.timedelta(days=n)} for n in range(1, 131)]
    Case.insert_many(rows).execute()
    database.close()
    return ben


def walk(client, url):
    """Follow the "next page" links from ``url``: every reference seen, page by page."""
    pages = []
    while url:
        response = client.get(url)
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        pages.append(re.findall(r"<bdi>(\d{6}-1448)</bdi></a>", html))
        url = next_link(html)
        assert len(pages) < 10
    return pages


def test_requests_are_keyset_paged_without_gaps_or_repeats(client, auth, many_cases):
    auth.login("officer")
    pages = walk(client, "/cases/")
    assert [len(p) for p in pages] == [50, 50, 30]
    seen = [ref for page in pages for ref in page]
    assert len(set(seen)) == 130
    # Newest change first; within a shared time, the higher id (created later) first.
    assert seen[:3] == ["000130-1448", "000129-1448", "000128-1448"]
    by_ref = walk(client, "/cases/?sort=reference")
    assert [r for p in by_ref for r in p] == sorted(seen)
    reverse = walk(client, "/cases/?sort=reference&dir=desc")
    assert [r for p in reverse for r in p] == sorted(seen, reverse=True)


def test_requests_filters_combine_and_travel_with_the_pages(client, auth, many_cases):
    auth.login("officer")
    html = client.get("/cases/?status=submitted&channel=phone&lang=en").get_data(as_text=True)
    refs = re.findall(r"<bdi>(\d{6})-1448</bdi></a>", html)
    expected = [n for n in range(1, 131) if n % 3 and not n % 2]
    assert len(refs) == min(50, len(expected)) and all(int(r) in expected for r in refs)
    assert f"<bdi>{len(expected)}</bdi> requests" in html
    assert next_link(html) is None  # 44 rows: one page
    link = next_link(client.get("/cases/?status=submitted&type=food_basket").get_data(as_text=True))
    assert "status=submitted" in link and "type=food_basket" in link and "after=" in link
    # A date range on the opening day (Saudi days; Gregorian or Hijri, Eastern digits).
    day = (utcnow() - dt.timedelta(days=200 - 10) + dt.timedelta(hours=3)).date()
    one_day = client.get(f"/cases/?from={day.isoformat()}&to={day.isoformat()}").get_data(as_text=True)
    assert re.findall(r"<bdi>(\d{6}-1448)</bdi></a>", one_day) == ["000010-1448"]


def test_bad_filter_input_says_why_and_keeps_what_was_typed(client, auth, many_cases):
    auth.login("officer")
    response = client.get("/cases/?from=2026-02-31&to=yesterday&lang=en")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'value="2026-02-31"' in html and 'value="yesterday"' in html and 'aria-invalid="true"' in html
    backwards = client.get("/cases/?from=2026-05-01&to=2026-04-01&lang=en")
    assert backwards.status_code == 422 and "The end date is before the start date." in text_of(backwards)
    # A cursor that was not written by the list is ignored: the first page, not an error.
    for junk in ("xyz", "W10", "WyJhIiwxXQ", "%00" * 3, "a" * 500):
        assert client.get(f"/cases/?after={junk}&sort=changed").status_code == 200
    assert client.get("/cases/?sort=nonsense&dir=sideways&branch=abc&researcher=xx").status_code == 200


def test_counts_are_capped_and_the_page_reads_no_whole_table(client, auth, many_cases, monkeypatch):
    from portal import listing

    auth.login("officer")
    monkeypatch.setattr(listing, "COUNT_CAP", 100)
    html = client.get("/cases/?lang=en").get_data(as_text=True)
    assert "<bdi>100+</bdi> requests" in html and "refine the filters" in html
    with count_queries() as counted:
        client.get("/cases/")
    sql = [q.msg[0].lower() for q in counted.get_queries()]
    counts = [q for q in sql if "count(" in q and "case" in q]
    assert counts and all("limit" in q for q in counts), counts
    assert not any(" offset " in q and "case" in q for q in sql)


def test_htmx_gets_only_the_list(client, auth, many_cases):
    auth.login("officer")
    fragment = client.get("/cases/?status=approved", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="case-results">') and "<html" not in fragment
    assert 'hx-target="#case-results"' in fragment
    page = client.get("/cases/?status=approved").get_data(as_text=True)
    assert "<html" in page and '<form class="filters list-filters" method="get"' in page


def test_mobile_cards_have_labels(client, auth, many_cases):
    auth.login("officer")
    html = client.get("/cases/?lang=en").get_data(as_text=True)
    assert 'data-label="Reference"' in html and 'data-label="Status"' in html


# --- outreach ----------------------------------------------------------------------------------------

@pytest.fixture
def tasks(wf):
    from portal.workflow.outreach import create_task

    ben = wf.beneficiary(branch="TAIF", first_name="نورة")
    today = dt.date.today()
    made = [create_task(beneficiary=ben, kind="follow_up", reason=f"متابعة {n}", due=today + dt.timedelta(days=n),
                        key=f"t-{n}") for n in range(-3, 60)]
    database.close()
    return made


def test_assign_to_me_the_mine_filter_and_give_back(client, auth, tasks, users, app):
    from portal.workflow.models import OutreachTask

    auth.login("officer")
    first = tasks[0]
    response = client.post(f"/outreach/{first.id}/assign", data={"take": "1", "next": "/outreach/?kind=follow_up"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/outreach/?kind=follow_up")
    mine = client.get("/outreach/?assignee=me&lang=en")
    html = mine.get_data(as_text=True)
    assert f'id="task-{first.id}"' in html and html.count('class="panel" id="task-') == 1
    assert "<bdi>1</bdi> tasks" in html and "Give back" in html
    unassigned = client.get("/outreach/?assignee=none").get_data(as_text=True)
    assert f'id="task-{first.id}"' not in unassigned
    # Someone else cannot take it, nor give it back; nothing changes.
    auth.logout()
    auth.login("delegate")
    refused = client.post(f"/outreach/{first.id}/assign?lang=en", data={"take": "1"})
    assert refused.status_code == 409 and "Someone else has taken this task." in text_of(refused)
    assert client.post(f"/outreach/{first.id}/assign", data={"take": "0"}).status_code == 409
    with app.app_context(), database.connection_context():
        assert OutreachTask.get_by_id(first.id).assigned_to_id == users["officer"]
    auth.logout()
    auth.login("officer")
    assert client.post(f"/outreach/{first.id}/assign", data={"take": "0", "next": "//evil.example/"}
                       ).headers["Location"].endswith("/outreach/")
    with app.app_context(), database.connection_context():
        assert OutreachTask.get_by_id(first.id).assigned_to_id is None


def test_outreach_is_paged_by_due_date_and_filtered_by_dates(client, auth, tasks):
    auth.login("officer")
    html = client.get("/outreach/?lang=en").get_data(as_text=True)
    ids = [int(i) for i in re.findall(r'class="panel" id="task-(\d+)"', html)]
    assert ids[:2] == [tasks[0].id, tasks[1].id] and len(ids) == 50 and "Late" in html
    second = client.get(next_link(html)).get_data(as_text=True)
    rest = [int(i) for i in re.findall(r'class="panel" id="task-(\d+)"', second)]
    assert len(rest) == 13 and not set(rest) & set(ids) and next_link(second) is None
    today = dt.date.today()
    window = client.get(f"/outreach/?from={today.isoformat()}&to={(today + dt.timedelta(days=2)).isoformat()}")
    assert len(re.findall(r'class="panel" id="task-', window.get_data(as_text=True))) == 3
    newest = client.get("/outreach/?sort=created").get_data(as_text=True)
    assert re.findall(r'class="panel" id="task-(\d+)"', newest)[0] == str(tasks[-1].id)


def test_a_handled_task_cannot_be_taken_and_shows_in_the_done_list(client, auth, tasks):
    auth.login("officer")
    task = tasks[5]
    assert client.post(f"/outreach/{task.id}/complete", data={
        "outcome": "dismissed", "summary": "لا حاجة"}).status_code == 302
    refused = client.post(f"/outreach/{task.id}/assign?lang=en", data={"take": "1"})
    assert refused.status_code == 422 and "already handled" in text_of(refused)
    done = client.get("/outreach/?state=dismissed").get_data(as_text=True)
    assert f'id="task-{task.id}"' in done and "لا حاجة" in done
    assert client.post("/outreach/999999/assign", data={"take": "1"}).status_code == 404
