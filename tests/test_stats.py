"""Per-day contact counts (``portal.stats``): kept by the timeline services in the entries' transaction, and
right again after the nightly recount."""
from __future__ import annotations

import datetime as dt

import pytest

from portal import stats
from portal.dates import SAUDI_OFFSET, saudi_today
from portal.db import database, utcnow
from portal.models import ContactDay, TimelineEntry
from portal.timeline import create_entries, log_entry, update_entries, update_entry


def _counts():
    return {(r.day, r.channel, r.direction): r.count for r in ContactDay.select() if r.count}


def _channel(app):
    from portal.plugins import channels

    keys = [c["key"] for c in channels()]
    return keys[0], keys[-1]


@pytest.fixture
def ben(make_beneficiary):
    return make_beneficiary()


def test_entries_written_one_by_one_and_in_bulk_are_counted_per_saudi_day(app, db, ben):
    one, other = _channel(app)
    late = dt.datetime(2026, 11, 29, 22, 30)  # 01:30 on 30 November in Riyadh
    log_entry(channel=one, summary="a call", beneficiary=ben, direction="in", occurred_at=late)
    log_entry(channel=one, summary="a note", beneficiary=ben, direction="internal", occurred_at=late)
    log_entry(channel="system", summary="status changed", beneficiary=ben, direction="out", occurred_at=late)
    create_entries([{"beneficiary": ben, "channel": other, "direction": "out", "summary": f"n{i}",
                     "occurred_at": late + dt.timedelta(hours=i)} for i in range(3)])
    counts = _counts()
    assert counts[(dt.date(2026, 11, 30), one, "in")] == 1
    assert counts[(dt.date(2026, 11, 30), other, "out")] == 3
    # internal notes and the workflow's own events are not contacts
    assert sum(counts.values()) == 4


def test_changing_an_entry_moves_it_between_counts(app, db, ben):
    one, other = _channel(app)
    day = dt.datetime(2026, 11, 10, 9, 0)
    entry = log_entry(channel=one, summary="x", beneficiary=ben, direction="in", occurred_at=day)
    update_entry(entry, occurred_at=day + dt.timedelta(days=1), direction="out")
    assert _counts() == {(dt.date(2026, 11, 11), one, "out"): 1}
    update_entry(entry, direction="internal")
    assert _counts() == {}
    log_entry(channel=one, summary="y", beneficiary=ben, direction="in", occurred_at=day)
    log_entry(channel=one, summary="z", beneficiary=ben, direction="in", occurred_at=day)
    moved = update_entries(TimelineEntry.summary.in_(["y", "z"]), channel=other)
    assert moved == 2
    assert _counts() == {(dt.date(2026, 11, 10), other, "in"): 2}
    # a change of other fields leaves the counts alone
    update_entries(TimelineEntry.summary == "y", body="more")
    assert _counts() == {(dt.date(2026, 11, 10), other, "in"): 2}


def test_a_failed_transaction_leaves_the_counts_as_they_were(app, db, ben):
    one, _ = _channel(app)
    with pytest.raises(RuntimeError):
        with database.atomic():
            log_entry(channel=one, summary="x", beneficiary=ben, direction="in", occurred_at=utcnow())
            raise RuntimeError("rolled back")
    assert _counts() == {}


def test_recount_repairs_drift_in_the_recent_days_and_keeps_older_ones(app, db, ben):
    one, other = _channel(app)
    today = saudi_today()
    now = dt.datetime.combine(today, dt.time(12)) - SAUDI_OFFSET
    for i in range(3):
        log_entry(channel=one, summary=f"r{i}", beneficiary=ben, direction="in", occurred_at=now)
    old = dt.date(2020, 1, 1)
    ContactDay.create(day=old, channel=other, direction="in", count=7)  # outside the recount window
    # drift: a row written behind the services' back, a wrong count
    TimelineEntry.insert(beneficiary=ben, channel=one, direction="in", summary="raw", occurred_at=now).execute()
    ContactDay.update(count=99).where(ContactDay.day == today).execute()
    stats.recount(today=today)
    counts = _counts()
    assert counts[(today, one, "in")] == 4
    assert counts[(old, other, "in")] == 7
    assert stats.contacts_by_channel(today - dt.timedelta(days=29), today) == {one: 4}
    assert stats.contacts_by_channel(old, old) == {other: 7}


def test_manager_dashboard_reads_contacts_from_the_day_counts(app, client, auth, ben):
    from portal.plugins import channel_map

    with app.app_context(), database.connection_context():
        one, _ = _channel(app)
        label = channel_map()[one]["label_ar"]
        log_entry(channel=one, summary="x", beneficiary=ben, direction="in", occurred_at=utcnow())
        # the entries themselves are not read for the chart: a count of 5 with one entry shows 5
        ContactDay.update(count=5).execute()
    auth.login("manager")
    html = client.get("/").get_data(as_text=True)
    chart = html[html.index(label, html.index("dash-indicators")):]
    assert ">5<" in chart.replace(" ", "")


# --- the undelivered mark ------------------------------------------------------------------------------------

def _marked():
    return {e.id for e in TimelineEntry.select(TimelineEntry.id).where(TimelineEntry.undelivered == True)}  # noqa: E712


def test_undelivered_mark_follows_the_entries_and_equals_a_remark(app, db, ben):
    one, _other = _channel(app)
    now = utcnow()
    not_sent = log_entry(channel="system", summary="not sent", beneficiary=ben, direction="out", occurred_at=now,
                         data={"kind": "notification", "sent": False})
    sent = log_entry(channel="system", summary="sent", beneficiary=ben, direction="out", occurred_at=now,
                     data={"kind": "notification", "sent": True})
    internal = log_entry(channel="system", summary="note", beneficiary=ben, direction="internal", occurred_at=now,
                         data={"sent": False})  # not an outgoing message
    failed, queued = create_entries([
        {"beneficiary": ben, "channel": one, "direction": "out", "summary": "failed", "occurred_at": now,
         "data": {"delivery_state": "failed"}},
        {"beneficiary": ben, "channel": one, "direction": "out", "summary": "queued", "occurred_at": now,
         "data": {"delivery_state": "queued"}}])
    assert _marked() == {not_sent.id, failed.id}
    update_entry(queued, data={"delivery_state": "failed", "delivery_error": "131026"})  # the transport said so
    update_entry(failed, data={"delivery_state": "delivered"})
    assert _marked() == {not_sent.id, queued.id}
    update_entries(TimelineEntry.id.in_([sent.id, internal.id]), data={"sent": False})
    assert _marked() == {not_sent.id, queued.id, sent.id}
    since = now - dt.timedelta(days=1)
    assert stats.remark_undelivered(since) == 0  # the SQL test agrees with the services' marks
    # drift: a mark written behind the services' back is right again after the nightly repair
    TimelineEntry.update(undelivered=True).where(TimelineEntry.id == failed.id).execute()
    TimelineEntry.update(undelivered=False).where(TimelineEntry.id == not_sent.id).execute()
    assert stats.remark_undelivered(since) == 2
    assert _marked() == {not_sent.id, queued.id, sent.id}


def test_officer_dashboard_lists_the_marked_entries(app, client, auth, ben):
    with app.app_context(), database.connection_context():
        log_entry(channel="system", summary="لم تُرسل", body="رسالة لم تصل", beneficiary=ben, direction="out",
                  data={"kind": "notification", "sent": False})
        log_entry(channel="system", summary="أُرسلت", body="رسالة وصلت", beneficiary=ben, direction="out",
                  data={"kind": "notification", "sent": True})
    auth.login("officer")
    html = client.get("/?lang=en").get_data(as_text=True)
    section = html[html.index('id="dash-undelivered"'):].split("</section>", 1)[0]
    assert "رسالة لم تصل" in section and "رسالة وصلت" not in section
