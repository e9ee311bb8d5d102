"""Hijri (Umm al-Qura) and Gregorian dates, side by side."""
from __future__ import annotations

import datetime as dt

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from hijridate import Gregorian, Hijri

from .db import utcnow
from .text import fold_digits
from .validators import ValidationError

SAUDI_OFFSET = dt.timedelta(hours=3)  # Saudi Arabia keeps UTC+3 all year, no daylight saving
SAUDI_TZ = dt.timezone(SAUDI_OFFSET)
ONE_DAY = dt.timedelta(days=1)

# Stored timestamps are naive UTC (``db.utcnow``); people see and type Saudi wall-clock time and think in
# Saudi calendar days. Every conversion between the two goes through the helpers below.


def to_saudi(value: dt.datetime) -> dt.datetime:
    """A stored timestamp (naive UTC, or aware in any zone) as Saudi wall-clock time (naive)."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value + SAUDI_OFFSET


def from_saudi(value: dt.datetime) -> dt.datetime:
    """A Saudi wall-clock time (typed in a form, naive) as the naive UTC the database stores."""
    return value - SAUDI_OFFSET


def saudi_date(value: dt.datetime | dt.date) -> dt.date:
    """The Saudi calendar day of a stored (naive UTC) timestamp; a date is returned as it is."""
    if isinstance(value, dt.datetime):
        return to_saudi(value).date()
    return value


def saudi_today(now: dt.datetime | None = None) -> dt.date:
    """Today's date in Saudi Arabia; ``now`` is a stored (naive UTC) timestamp, the current time by default."""
    return saudi_date(now or utcnow())


def saudi_day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The stored (naive UTC) bounds of a Saudi calendar day, start included and end excluded:
    ``start <= at < end``."""
    start = from_saudi(dt.datetime.combine(day, dt.time()))
    return start, start + ONE_DAY


def saudi_days_bounds(first: dt.date | None, last: dt.date | None) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The stored bounds of the Saudi days ``first`` to ``last`` (both included) for ``start <= at < end``;
    a missing day leaves that side open (None)."""
    return (saudi_day_bounds(first)[0] if first else None), (saudi_day_bounds(last)[1] if last else None)


HIJRI_MONTHS_AR = [
    "محرم", "صفر", "ربيع الأول", "ربيع الآخر", "جمادى الأولى", "جمادى الآخرة",
    "رجب", "شعبان", "رمضان", "شوال", "ذو القعدة", "ذو الحجة",
]
HIJRI_MONTHS_EN = [
    "Muharram", "Safar", "Rabi al-Awwal", "Rabi al-Thani", "Jumada al-Ula", "Jumada al-Akhirah",
    "Rajab", "Shaban", "Ramadan", "Shawwal", "Dhu al-Qadah", "Dhu al-Hijjah",
]
GREG_MONTHS_AR = [
    "يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو",
    "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر",
]
GREG_MONTHS_EN = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
]


def to_hijri(value: dt.date) -> Hijri:
    if isinstance(value, dt.datetime):
        value = value.date()
    return Gregorian(value.year, value.month, value.day).to_hijri()


def hijri_year(value: dt.date | None = None) -> int:
    return to_hijri(value or dt.date.today()).year


def _lang() -> str:
    try:
        locale = get_locale()
    except Exception:  # outside a request
        locale = None
    return locale.language if locale else "ar"


def format_hijri(value: dt.date, lang: str | None = None) -> str:
    h = to_hijri(value)
    months = HIJRI_MONTHS_AR if (lang or _lang()) == "ar" else HIJRI_MONTHS_EN
    suffix = "هـ" if (lang or _lang()) == "ar" else "AH"
    return f"{h.day} {months[h.month - 1]} {h.year} {suffix}"


def format_gregorian(value: dt.date, lang: str | None = None) -> str:
    lang = lang or _lang()
    months = GREG_MONTHS_AR if lang == "ar" else GREG_MONTHS_EN
    suffix = "م" if lang == "ar" else ""
    return f"{value.day} {months[value.month - 1]} {value.year} {suffix}".strip()


def hijri_numeric(value: dt.date) -> str:
    h = to_hijri(value)
    return f"{h.year}/{h.month:02d}/{h.day:02d}"


def parse_date(value: str | None, *, calendar: str | None = None) -> dt.date | None:
    """Parse a typed date: ``YYYY-MM-DD`` or ``DD/MM/YYYY``, Gregorian or Hijri.

    A year before 1600 is taken as Hijri unless ``calendar`` says otherwise. Impossible dates
    (30 in a 29-day Hijri month, 31 February) raise ValidationError.
    """
    raw = fold_digits(value or "").strip()
    if not raw:
        return None
    raw = raw.replace("هـ", "").replace("م", "").strip()
    parts = [p for p in raw.replace("/", "-").replace(".", "-").split("-") if p]
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ValidationError(_l("Enter the date as YYYY-MM-DD or DD/MM/YYYY."))
    a, b, c = (int(p) for p in parts)
    if len(parts[0]) == 4:
        year, month, day = a, b, c
    elif len(parts[2]) == 4:
        year, month, day = c, b, a
    else:
        raise ValidationError(_l("Enter the date as YYYY-MM-DD or DD/MM/YYYY."))
    use_hijri = calendar == "hijri" or (calendar is None and year < 1600)
    if use_hijri:
        try:
            return _h2g(year, month, day)
        except (ValueError, OverflowError):
            raise ValidationError(_l("This Hijri date does not exist.")) from None
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise ValidationError(_l("This date does not exist.")) from None


def _h2g(year: int, month: int, day: int) -> dt.date:
    g = Hijri(year, month, day, validate=True).to_gregorian()
    return dt.date(g.year, g.month, g.day)


# --- working days ------------------------------------------------------------------------------------
# The Saudi week: Friday and Saturday are the weekend (Monday is 0 in ``date.weekday()``).
WEEKEND = (4, 5)


def is_working_day(day: dt.date) -> bool:
    return day.weekday() not in WEEKEND


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The day ``days`` working days after ``start`` (``start`` itself not counted, whatever day it is):
    a Thursday plus 2 is the next Monday, a Friday plus 1 is the Sunday. ``days`` 0 gives ``start`` when it
    is a working day, else the next working day."""
    if days < 0:
        raise ValueError("days must be zero or more")
    day = start
    if days == 0:
        while not is_working_day(day):
            day += ONE_DAY
        return day
    left = days
    while left:
        day += ONE_DAY
        if is_working_day(day):
            left -= 1
    return day


def working_days_between(first: dt.date, last: dt.date) -> int:
    """Working days after ``first`` up to and including ``last`` (0 when ``last`` is not after ``first``)."""
    count, day = 0, first
    while day < last:
        day += ONE_DAY
        if is_working_day(day):
            count += 1
    return count
