"""Lists out to CSV and Excel: one service for the core's lists and the plugins' lists.

A list describes its columns once (:class:`Column`) and hands the export the same filtered query the screen
shows; :func:`export_response` streams it:

* CSV: UTF-8 with a byte-order mark (spreadsheet programs then read Arabic right), written row by row;
* XLSX: an openpyxl *write-only* workbook (rows go to a temporary file as they come, never all in memory),
  right-to-left when the page is in Arabic, the header row frozen, sent in 64 KiB chunks.

Every cell a spreadsheet could run as a formula (text starting with ``= + - @``, a tab or a carriage return)
is prefixed with ``'`` so it stays text. A date column becomes two: the Gregorian date (a real date cell in
XLSX) and the Hijri date beside it. Timestamps are shown in Saudi time. Each export is audited (who, which
list, which filters, how many rows) when its last row has been written.

A plugin uses it the same way::

    from portal.exports import Column, export_response
    COLUMNS = [Column("reference", _l("Reference"), lambda r: r.reference), ...]
    return export_response(fmt, "outgoing-letters", COLUMNS, query, object_type="letter_registry", filters=kept)
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
from dataclasses import dataclass
from typing import Callable, Iterable

from flask import Response, abort, current_app
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _

from .audit import audit
from .dates import hijri_numeric, to_saudi
from .db import database
from .models import AuditEvent

FORMATS = ("csv", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHUNK = 64 * 1024
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Column:
    """One column of an export: a stable key, its (lazy) header, how to read it from a row, and its kind
    (``text``, ``number``, ``date`` or ``datetime``; a date kind gives a Gregorian and a Hijri column)."""

    key: str
    label: object
    value: Callable
    kind: str = "text"


def safe_text(value) -> str:
    """Text a spreadsheet shows as text: a leading ``= + - @``, tab or carriage return gets a ``'`` before it."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _as_date(value):
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return to_saudi(value).replace(tzinfo=None, microsecond=0)
    return value


def header(columns: list[Column]) -> list[str]:
    names = []
    for col in columns:
        label = str(col.label)
        if col.kind in ("date", "datetime"):
            names.append("%s (%s)" % (label, _("Gregorian")))
            names.append("%s (%s)" % (label, _("Hijri")))
        else:
            names.append(label)
    return names


def cells(columns: list[Column], row, *, xlsx: bool) -> list:
    """The cells of one row: dates as dates (XLSX) or ISO text (CSV) beside their Hijri date, numbers as
    numbers, everything else as formula-safe text."""
    out = []
    for col in columns:
        value = col.value(row)
        if col.kind in ("date", "datetime"):
            value = _as_date(value)
            if value is None:
                out.extend(("", ""))
                continue
            out.append(value if xlsx else value.isoformat(sep=" ") if isinstance(value, dt.datetime)
                       else value.isoformat())
            out.append(hijri_numeric(value.date() if isinstance(value, dt.datetime) else value))
        elif col.kind == "number" and isinstance(value, (int, float)) and not isinstance(value, bool):
            out.append(value)
        elif col.kind == "number" and value is not None and hasattr(value, "as_tuple"):  # Decimal
            out.append(float(value) if xlsx else str(value))
        else:
            out.append(safe_text(value))
    return out


def _rows(query) -> Iterable:
    """Rows one by one without peewee keeping them all (``.iterator()``)."""
    return query.iterator() if hasattr(query, "iterator") else iter(query)


def csv_chunks(columns: list[Column], rows: Iterable, counter: list) -> Iterable[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(header(columns))
    for row in rows:
        writer.writerow(cells(columns, row, xlsx=False))
        counter[0] += 1
        if buffer.tell() > CHUNK:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def write_xlsx(columns: list[Column], rows: Iterable, target, *, rtl: bool, title: str = "") -> int:
    """Write ``rows`` to ``target`` (a path or a binary file) as a write-only workbook; returns the row count."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=(title or "Sheet")[:31])
    ws.sheet_view.rightToLeft = bool(rtl)
    ws.freeze_panes = "A2"
    bold = Font(bold=True)
    head = []
    for name in header(columns):
        cell = WriteOnlyCell(ws, value=safe_text(name))
        cell.font = bold
        head.append(cell)
    ws.append(head)
    n = 0
    # Plain values, not a cell object each (that costs twice the time): text went through ``safe_text``, so
    # none starts with "=" and openpyxl stores every one as a string; dates get openpyxl's date formats.
    for row in rows:
        ws.append(cells(columns, row, xlsx=True))
        n += 1
    wb.save(target)
    return n


def _xlsx_chunks(columns, rows, counter, rtl, title):
    with tempfile.TemporaryFile() as tmp:
        counting = _Counting(rows, counter)
        write_xlsx(columns, counting, tmp, rtl=rtl, title=title)
        tmp.seek(0)
        while True:
            chunk = tmp.read(CHUNK)
            if not chunk:
                break
            yield chunk


class _Counting:
    def __init__(self, rows, counter):
        self.rows, self.counter = rows, counter

    def __iter__(self):
        for row in self.rows:
            self.counter[0] += 1
            yield row


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        abort(404)
    return fmt


def export_response(fmt: str, name: str, columns: list[Column], query, *, object_type: str,
                    filters: dict | None = None, rtl: bool | None = None) -> Response:
    """The streamed download of ``query`` (already filtered as on screen, and scoped to the user) in ``fmt``.

    ``object_type`` names the list in the audit trail; ``filters`` are the filters the list understood."""
    check_format(fmt)
    if rtl is None:
        locale = get_locale()
        rtl = (locale.language if locale else "ar") == "ar"
    counter = [0]
    details = {"format": fmt, "filters": {k: str(v) for k, v in (filters or {}).items()}, "rows": None,
               "finished": False}
    # Audited before the first byte (who, which list, which filters); the row count is written into the
    # same event when the last row is out. An abandoned download keeps "finished": false.
    event = audit("export", object_type, "", dict(details))

    # The request is over when the body is sent (its teardown has closed its database connection). Each
    # chunk is made inside an application context in the page's language, entered and left within that
    # chunk: nothing is held across a ``yield``, so a download abandoned half-way (closed by the garbage
    # collector, anywhere) leaves no context to unwind. The rows come through a connection of their own.
    app = current_app._get_current_object()
    lang = str(get_locale() or "ar")

    def generate():
        chunks = csv_chunks(columns, _rows(query), counter) if fmt == "csv" else _xlsx_chunks(
            columns, _rows(query), counter, rtl, name)
        opened = False
        try:
            while True:
                with app.app_context(), force_locale(lang):
                    if not opened:
                        opened = database.connect(reuse_if_open=True) or True
                    chunk = next(chunks, None)
                    if chunk is None:
                        details.update(rows=counter[0], finished=True)
                        AuditEvent.update(details=details).where(AuditEvent.id == event.id).execute()
                if chunk is None:
                    return
                yield chunk
        finally:
            chunks.close()
            if opened and not database.is_closed():
                database.close()

    response = Response(generate(),
                        mimetype="text/csv; charset=utf-8" if fmt == "csv" else XLSX_TYPE)
    stamp = dt.date.today().isoformat()
    response.headers["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.{fmt}"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def ordered(query, sorts: dict, args, *, id_field, default: str):
    """``query`` in the order the list shows (the ``sort``/``dir`` of ``args``, then id), without a page."""
    key = args.get("sort") if args.get("sort") in sorts else default
    chosen = sorts[key]
    direction = args.get("dir")
    descending = chosen.descending if direction not in ("asc", "desc") else direction == "desc"
    if descending:
        return query.order_by(chosen.field.desc(), id_field.desc())
    return query.order_by(chosen.field.asc(), id_field.asc())


def export_list(fmt: str, name: str, columns: list[Column], *, filters, sorts: dict, id_field, default: str,
                object_type: str) -> Response:
    """A list's export route in one call: the list's own ``filters(args, user, errors) -> (query, kept)``
    (a bad filter is 422) and its order as on screen, every row, as CSV or XLSX, audited."""
    from flask import request
    from flask_login import current_user

    check_format(fmt)
    errors = {}
    query, kept = filters(request.args, current_user, errors)
    if errors:
        abort(422)
    query = ordered(query, sorts, request.args, id_field=id_field, default=default)
    return export_response(fmt, name, columns, query, object_type=object_type, filters=kept)
