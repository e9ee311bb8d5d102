"""Saudi days and times against the stored naive UTC: the helpers every screen, filter and job goes through."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from portal.dates import (
    from_saudi, saudi_date, saudi_day_bounds, saudi_days_bounds, saudi_today, to_saudi,
)


def test_a_saudi_day_starts_at_21_utc_the_evening_before():
    start, end = saudi_day_bounds(dt.date(2026, 3, 1))
    assert start == dt.datetime(2026, 2, 28, 21, 0)  # across the UTC day and the month
    assert end == dt.datetime(2026, 3, 1, 21, 0)


def test_a_timestamp_after_21_utc_is_already_the_next_saudi_day():
    late = dt.datetime(2026, 12, 31, 21, 30)  # 00:30 on 1 January in Riyadh
    assert saudi_date(late) == dt.date(2027, 1, 1)
    assert saudi_today(late) == dt.date(2027, 1, 1)
    start, end = saudi_day_bounds(dt.date(2027, 1, 1))
    assert start <= late < end
    assert saudi_date(dt.datetime(2026, 12, 31, 20, 59, 59)) == dt.date(2026, 12, 31)


def test_the_end_bound_is_excluded():
    start, end = saudi_day_bounds(dt.date(2026, 11, 30))
    assert saudi_date(end - dt.timedelta(microseconds=1)) == dt.date(2026, 11, 30)
    assert saudi_date(end) == dt.date(2026, 12, 1)
    assert saudi_date(start) == dt.date(2026, 11, 30)


def test_a_range_of_days_may_be_open_on_either_side():
    first, last = dt.date(2026, 11, 1), dt.date(2026, 11, 3)
    assert saudi_days_bounds(first, last) == (dt.datetime(2026, 10, 31, 21), dt.datetime(2026, 11, 3, 21))
    assert saudi_days_bounds(None, last) == (None, dt.datetime(2026, 11, 3, 21))
    assert saudi_days_bounds(first, None) == (dt.datetime(2026, 10, 31, 21), None)
    assert saudi_days_bounds(None, None) == (None, None)


def test_typed_saudi_times_and_stored_utc_convert_both_ways():
    typed = dt.datetime(2026, 11, 30, 1, 15)  # 01:15 in Riyadh
    stored = from_saudi(typed)
    assert stored == dt.datetime(2026, 11, 29, 22, 15)
    assert to_saudi(stored) == typed


def test_aware_timestamps_are_read_in_their_own_zone():
    aware = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=5)))  # 07:00 UTC
    assert to_saudi(aware) == dt.datetime(2026, 11, 30, 10, 0)
    assert saudi_date(dt.date(2026, 11, 30)) == dt.date(2026, 11, 30)  # a date is already a day


def test_today_defaults_to_the_current_saudi_day():
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    assert saudi_today() in {saudi_date(now), saudi_date(now + dt.timedelta(seconds=5))}


def test_iso_times_carry_the_saudi_offset():
    from portal.dates import SAUDI_TZ

    assert dt.datetime(2026, 11, 30, 1, 15, tzinfo=SAUDI_TZ).isoformat() == "2026-11-30T01:15:00+03:00"


HAND_WRITTEN_OFFSET = re.compile(r"hours\s*=\s*3\b|[+]03:00|UTC\s*[+]\s*3")


def hand_written_offsets(root: Path) -> list[str]:
    """Lines outside ``dates.py`` (and migrations) that write the Saudi offset themselves."""
    return [f"{path.relative_to(root)}:{number}"
            for path in sorted(root.rglob("*")) if path.suffix in (".py", ".html")
            and path.name != "dates.py" and "migrations" not in path.parts
            for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1)
            if HAND_WRITTEN_OFFSET.search(line)]


def test_the_saudi_offset_is_written_in_dates_py_only(tmp_path):
    root = Path(__file__).resolve().parent.parent
    found = [line for folder in ("portal", "plugins", "templates") for line in hand_written_offsets(root / folder)]
    assert not found, "use portal.dates (saudi_today, saudi_day_bounds, to_saudi, ...): " + ", ".join(found)
    (tmp_path / "view.py").write_text("start = midnight - dt.timedelta(hours=3)\n")
    (tmp_path / "dates.py").write_text("SAUDI_OFFSET = dt.timedelta(hours=3)\n")
    assert hand_written_offsets(tmp_path) == ["view.py:1"]
