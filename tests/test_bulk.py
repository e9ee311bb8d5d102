"""Bulk paths: many timeline entries and outreach tasks written in one statement each, paired with their
ids, with the same rules as the one-by-one services."""
from __future__ import annotations

import datetime as dt

import pytest

from portal.db import bulk_insert, database
from portal.models import AuditEvent, TimelineEntry
from portal.timeline import create_entries
from portal.workflow.models import OutreachTask
from portal.workflow.outreach import create_task, create_tasks


@pytest.fixture
def ben(make_beneficiary):
    return make_beneficiary()


def _channel():
    from portal.plugins import channels

    return channels()[0]["key"]


def test_bulk_entries_come_back_paired_with_their_ids(app, db, ben):
    channel = _channel()
    start = dt.datetime(2026, 5, 1, 8)
    rows = [{"beneficiary": ben if i % 2 else None, "channel": channel, "direction": "in", "summary": f"entry {i}",
             "occurred_at": start + dt.timedelta(minutes=i), "data": {"n": i}} for i in range(2500)]
    entries = create_entries(rows)
    assert len(entries) == 2500
    stored = {e.id: (e.summary, e.data, e.beneficiary_id, e.occurred_at) for e in TimelineEntry.select()}
    for entry in entries:
        assert stored[entry.id] == (entry.summary, entry.data, entry.beneficiary_id, entry.occurred_at)
        assert not entry.is_dirty()


def test_bulk_insert_fills_defaults_and_can_skip_conflicts(app, db, ben):
    today = dt.date(2026, 5, 1)
    first = bulk_insert(OutreachTask, [{"beneficiary": ben, "kind": "call_back", "reason": "r", "due": today,
                                        "key": "k1"}], returning=("id",))
    task = OutreachTask.get_by_id(first[0][0])
    assert task.status == "open" and task.created_at is not None  # the model's defaults
    again = bulk_insert(OutreachTask, [{"beneficiary": ben, "kind": "call_back", "reason": "r", "due": today,
                                        "key": key} for key in ("k1", "k2")], returning=("key",),
                        ignore_conflicts=True)
    assert again == [("k2",)]
    assert OutreachTask.select().count() == 2


def test_create_tasks_skips_queued_keys_and_audits_once(app, db, ben):
    due = dt.date(2026, 5, 2)
    create_task(beneficiary=ben, kind="call_back", reason="first", due=due, source={"call": 1})
    audits = AuditEvent.select().count()
    specs = [{"beneficiary": ben, "kind": "call_back", "reason": f"<b>r{i}</b>\u202e", "due": due,
              "source": {"call": i}} for i in range(1, 5)]
    specs.append(dict(specs[-1]))  # the same task twice in one batch
    ids = create_tasks(specs)
    assert len(ids) == 3  # call 1 was queued already, call 4 came twice
    assert AuditEvent.select().count() == audits + 1
    assert create_tasks(specs) == []  # a re-run adds nothing
    reasons = {t.reason for t in OutreachTask.select()}
    assert all("\u202e" not in r for r in reasons)  # cleaned as create_task cleans


def test_a_failing_batch_writes_nothing(app, db, ben):
    channel = _channel()
    rows = [{"beneficiary": ben, "channel": channel, "summary": "ok", "occurred_at": dt.datetime(2026, 5, 1)},
            {"beneficiary": ben, "channel": "no-such-channel", "summary": "bad", "occurred_at": dt.datetime(2026, 5, 1)}]
    with pytest.raises(ValueError):
        create_entries(rows)
    assert TimelineEntry.select().count() == 0


def test_in_values_selects_what_in_selects(app, db, ben, make_beneficiary):
    """``in_values`` binds a long list of plain values: the same rows as peewee's ``in_``, none for an empty
    list, and a value with quotes or SQL in it is only a value."""
    from portal.db import in_values
    from portal.models import Beneficiary

    mine, other = Beneficiary.get_by_id(ben), Beneficiary.get_by_id(make_beneficiary())
    wanted = [mine.mobile, other.mobile, "0' OR '1'='1", *[f"+9665{n:08d}" for n in range(1500)]]
    found = {b for (b,) in Beneficiary.select(Beneficiary.id).where(in_values(Beneficiary.mobile, wanted)).tuples()}
    assert found == {b for (b,) in Beneficiary.select(Beneficiary.id).where(Beneficiary.mobile.in_(wanted)).tuples()}
    assert {mine.id, other.id} <= found
    assert not Beneficiary.select().where(in_values(Beneficiary.mobile, [])).exists()
    assert Beneficiary.select().where(in_values(Beneficiary.id, [mine.id])).get().id == mine.id
