"""Lists that scale: keyset pages, sortable columns, filters read from the query string, capped counts.

A page is ``ORDER BY <column>, id`` with ``LIMIT n + 1`` after a cursor (the last row's column value and
id), never an ``OFFSET``: the tenth page costs what the first does. Counts are capped: the database stops
counting at ``COUNT_CAP + 1`` rows (``SELECT COUNT(*) FROM (... LIMIT 1001)``), and the page shows
"1,000+" beyond it, so a count never walks a whole table.

Lists use it like this::

    sorts = {"due": Sort(OutreachTask.due, _l("Due date")), ...}
    page = keyset_page(query, sorts, request.args, id_field=OutreachTask.id, default="due")
    page.rows, page.next_args, page.count_text ...
"""
from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass, field

from flask_babel import format_decimal
from flask_babel import gettext as _
from peewee import AutoField, DateField, DateTimeField, ForeignKeyField, IntegerField

from .dates import parse_date
from .validators import ValidationError

PAGE_SIZE = 50
COUNT_CAP = 1000


@dataclass
class Sort:
    """A sortable column: a non-null peewee field, its label, the direction it starts in."""

    field: object
    label: object
    descending: bool = True


@dataclass
class Page:
    rows: list
    sort: str
    descending: bool
    next_cursor: str | None
    count: int
    capped: bool
    first: bool
    args: dict = field(default_factory=dict)

    @property
    def count_text(self) -> str:
        """``"37"``, or ``"1,000+"`` when there are more rows than the cap."""
        if self.capped:
            return format_decimal(COUNT_CAP) + "+"
        return format_decimal(self.count)

    def next_args(self) -> dict:
        """The query string of the next page: the same filters and sort, the cursor after the last row."""
        return {**self.args, "after": self.next_cursor}

    def first_args(self) -> dict:
        return {k: v for k, v in self.args.items() if k != "after"}

    def sort_args(self, key: str) -> dict:
        """The query string for sorting by ``key``: a second click reverses the direction."""
        args = self.first_args()
        args.pop("dir", None)
        args["sort"] = key
        if key == self.sort:
            args["dir"] = "asc" if self.descending else "desc"
        return args

    def aria_sort(self, key: str) -> str:
        if key != self.sort:
            return ""
        return "descending" if self.descending else "ascending"


def _encode(value, row_id) -> str:
    if isinstance(value, (dt.datetime, dt.date)):
        value = value.isoformat()
    raw = json.dumps([value, row_id], ensure_ascii=False, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(text: str | None, sort_field, id_field):
    """The cursor's ``(value, id)``, or None when it is missing or not one this list wrote."""
    if not text or len(text) > 400:
        return None
    try:
        value, row_id = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        row_id = int(row_id)
        if isinstance(sort_field, DateTimeField):
            value = dt.datetime.fromisoformat(value)
        elif isinstance(sort_field, DateField):
            value = dt.date.fromisoformat(value)
        elif isinstance(sort_field, (IntegerField, AutoField, ForeignKeyField)):
            value = int(value)
        elif not isinstance(value, str):
            return None
    except (ValueError, TypeError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    return value, row_id


def capped_count(query, cap: int | None = None) -> tuple[int, bool]:
    """How many rows ``query`` has, counting at most ``cap + 1``: ``(n, more_than_cap)``."""
    cap = COUNT_CAP if cap is None else cap
    n = query.order_by().limit(cap + 1).count()
    return min(n, cap), n > cap


def keyset_page(query, sorts: dict[str, Sort], args, *, id_field, default: str, filters: dict | None = None,
                size: int = PAGE_SIZE) -> Page:
    """One page of ``query`` (already filtered) sorted by ``args["sort"]`` (one of ``sorts``) and
    ``args["dir"]``, after ``args["after"]``. ``filters`` are the query-string values the links
    must carry (the filters the list understood, cleaned)."""
    key = args.get("sort") if args.get("sort") in sorts else default
    chosen = sorts[key]
    direction = args.get("dir")
    descending = chosen.descending if direction not in ("asc", "desc") else direction == "desc"
    count, capped = capped_count(query)
    cursor = _decode(args.get("after"), chosen.field, id_field)
    if cursor is not None:
        value, row_id = cursor
        if descending:
            query = query.where((chosen.field < value) | ((chosen.field == value) & (id_field < row_id)))
        else:
            query = query.where((chosen.field > value) | ((chosen.field == value) & (id_field > row_id)))
    order = (chosen.field.desc(), id_field.desc()) if descending else (chosen.field.asc(), id_field.asc())
    rows, more = _at_most(query.order_by(*order), size)
    next_cursor = None
    if more and rows:
        last = rows[-1]
        value = _value_of(last, chosen.field)
        next_cursor = _encode(value, _value_of(last, id_field))
    kept = {k: v for k, v in (filters or {}).items() if v not in (None, "", False)}
    if key != default:
        kept["sort"] = key
    if direction in ("asc", "desc") and descending != chosen.descending:
        kept["dir"] = direction
    return Page(rows=rows, sort=key, descending=descending, next_cursor=next_cursor, count=count, capped=capped,
                first=cursor is None, args=kept)


def _at_most(query, size: int) -> tuple[list, bool]:
    """The first ``size`` rows of ``query`` and whether there are more (one more row is read to know)."""
    rows = list(query.limit(size + 1))
    return rows[:size], len(rows) > size


def older_page(query, id_field, before: int | None, size: int) -> tuple[list, int | None]:
    """A simple newest-first list paged by id: the rows of ``query`` (ordered by ``id_field`` descending) below
    ``before`` (all when None), at most ``size``, and the ``before`` of the next page (None on the last)."""
    if before:
        query = query.where(id_field < before)
    rows, more = _at_most(query, size)
    return rows, (rows[-1].id if more and rows else None)


def _value_of(row, field_):
    """The stored value of one of the row's own columns (a foreign key's id, not the object)."""
    return row.__data__.get(field_.name)


def date_range(args, errors: dict, low: str = "from", high: str = "to"):
    """The ``from``/``to`` dates of a filter (Hijri or Gregorian, Eastern digits), with a message in
    ``errors`` for one that does not read as a date, or when they are the wrong way round."""
    found = {}
    for key in (low, high):
        try:
            found[key] = parse_date(args.get(key))
        except ValidationError as exc:
            errors[key] = str(exc.message)
            found[key] = None
    if found[low] and found[high] and found[high] < found[low]:
        errors[high] = _("The end date is before the start date.")
        found[high] = None
    return found[low], found[high]


def in_saudi_days(query, field, first: dt.date | None, last: dt.date | None):
    """``query`` limited to rows whose stored (naive UTC) ``field`` falls on the Saudi days ``first`` to ``last``
    (either may be None: open on that side)."""
    from .dates import saudi_days_bounds

    lo, hi = saudi_days_bounds(first, last)
    if lo:
        query = query.where(field >= lo)
    if hi:
        query = query.where(field < hi)
    return query


def period_filter(query, field, args, errors: dict, kept: dict):
    """The ``from``/``to`` filter of a list on a timestamp ``field`` (Saudi days, Hijri or Gregorian typed),
    with its messages in ``errors`` and the typed values kept in ``kept`` for the list's links."""
    low, high = date_range(args, errors)
    for key, day in (("from", low), ("to", high)):
        if day:
            kept[key] = args.get(key)
    return in_saudi_days(query, field, low, high)


def choice_filter(query, field, args, key: str, allowed, kept: dict):
    """The filter of a list on ``field`` equal to ``args[key]`` when that is one of ``allowed`` (anything else
    filters nothing); the value is kept in ``kept`` for the list's links."""
    value = args.get(key) or ""
    if value in allowed:
        query = query.where(field == value)
        kept[key] = value
    return query


def work_list_query(model):
    """The rows of a work list (``model`` has ``beneficiary`` and ``assigned_to``: complaints, outreach tasks) with
    the beneficiary and the assignee read in the same query (either may be missing)."""
    from peewee import JOIN

    from .models import Beneficiary, User

    assignee = User.alias()
    return (model.select(model, Beneficiary, assignee)
            .join(Beneficiary, JOIN.LEFT_OUTER, on=(model.beneficiary == Beneficiary.id), attr="beneficiary")
            .switch(model)
            .join(assignee, JOIN.LEFT_OUTER, on=(model.assigned_to == assignee.id), attr="assigned_to"))


def assignee_filter(query, field, args, user, kept: dict):
    """The "taken by" filter of a work list: ``assignee=me`` (the user's own) or ``assignee=none`` (not taken
    yet); kept in ``kept`` for the list's links."""
    who = args.get("assignee") or ""
    if who == "me":
        query = query.where(field == user.id)
    elif who == "none":
        query = query.where(field.is_null())
    else:
        return query
    kept["assignee"] = who
    return query
