"""Quiet hours (PORTAL_QUIET_HOURS, Saudi time): when a message may go."""
import datetime as dt

import pytest

from portal import create_app
from portal.quiet import parse, quiet_until

UTC = dt.datetime


@pytest.mark.parametrize("now_utc, until", [
    (UTC(2026, 11, 30, 20, 30), UTC(2026, 12, 1, 5, 0)),  # 23:30 in Riyadh -> 08:00 next morning
    (UTC(2026, 11, 30, 19, 0), UTC(2026, 12, 1, 5, 0)),  # 22:00 exactly: quiet
    (UTC(2026, 11, 30, 22, 0), UTC(2026, 12, 1, 5, 0)),  # 01:00 after midnight: the same morning
    (UTC(2026, 12, 1, 4, 59), UTC(2026, 12, 1, 5, 0)),  # 07:59
    (UTC(2026, 12, 1, 5, 0), None),  # 08:00: may go
    (UTC(2026, 11, 30, 18, 59), None),  # 21:59
    (UTC(2026, 11, 30, 9, 0), None),  # noon
])
def test_default_window(now_utc, until):
    assert quiet_until(now_utc, "22:00-08:00") == until


def test_daytime_window_and_urgent_and_off():
    assert quiet_until(UTC(2026, 11, 30, 10, 0), "12:00-14:00") == UTC(2026, 11, 30, 11, 0)  # 13:00 local
    assert quiet_until(UTC(2026, 11, 30, 12, 0), "12:00-14:00") is None
    assert quiet_until(UTC(2026, 11, 30, 20, 30), "22:00-08:00", "one_time_code") is None
    assert quiet_until(UTC(2026, 11, 30, 20, 30), "") is None
    assert quiet_until(UTC(2026, 11, 30, 20, 30), None) is None


@pytest.mark.parametrize("bad", ["22-08", "25:00-08:00", "22:00-08:61", "night", "22:00 to 08:00"])
def test_bad_settings_are_refused(bad):
    with pytest.raises(ValueError, match="PORTAL_QUIET_HOURS"):
        parse(bad)


def test_the_app_refuses_to_start_with_a_bad_setting(app_config):
    from portal import ConfigError

    with pytest.raises(ConfigError, match="PORTAL_QUIET_HOURS"):
        create_app(dict(app_config, QUIET_HOURS="10pm-8am"))
