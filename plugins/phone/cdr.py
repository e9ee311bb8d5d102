"""Import of call detail records: Asterisk ``Master.csv`` (no header row) and FreePBX exports
(a header row naming the columns).

The file is streamed line by line (a line is capped, so a file without line breaks cannot fill
memory); records are parsed with RFC 4180 quoting (quoted commas, doubled quotes, line breaks inside
quotes) and written in batches: one transaction, two multi-row inserts and one duplicate look-up
per batch. A re-import adds nothing: a record is known by its ``uniqueid``, else by
start + src + dst + duration."""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import re
import time
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.audit import audit
from portal.dates import saudi_date
from portal.db import bulk_insert, database, in_values, utcnow
from portal.models import Beneficiary, User
from portal.timeline import create_entries
from portal.workflow.outreach import create_tasks

from .calls import local_display, normalize_number
from .models import PhoneCall

ASTERISK_COLUMNS = (
    "accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel", "lastapp", "lastdata", "start",
    "answer", "end", "duration", "billsec", "disposition", "amaflags",
)
ASTERISK_OPTIONAL = ("uniqueid", "userfield", "peeraccount", "linkedid", "sequence")
MAX_RECORD = 64 * 1024  # bytes; a CDR line is a few hundred
BATCH_SIZE = 1000
MAX_REPORTED_ERRORS = 500
DISPOSITIONS = ("ANSWERED", "NO ANSWER", "BUSY", "FAILED", "CONGESTION")
MISSED_DISPOSITIONS = ("NO ANSWER", "BUSY")
_CLID = re.compile(r'^\s*"?(?P<name>[^"<]*?)"?\s*<(?P<number>[^>]*)>\s*$')
_CHANNEL_EXT = re.compile(r"^[A-Za-z0-9]+/(?P<ext>[^-@/]+)")


class CdrFileError(ValueError):
    """The whole file is refused (not text, empty)."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


class RowError(ValueError):
    pass


@dataclass
class ImportReport:
    file_name: str = ""
    format: str = ""
    rows: int = 0
    imported: int = 0
    duplicates: int = 0
    invalid: int = 0
    matched: int = 0
    missed: int = 0
    errors: list = field(default_factory=list)  # (line number, reason), the first MAX_REPORTED_ERRORS
    seconds: float = 0.0

    def add_error(self, line: int, reason: str) -> None:
        self.invalid += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append((line, reason))

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("file_name", "format", "rows", "imported", "duplicates", "invalid",
                                               "matched", "missed", "seconds")}


# --- reading ---------------------------------------------------------------------------------------

def _records(stream, report: ImportReport):
    """Yield ``(line_number, text)`` per CSV record, or ``(line_number, RowError)`` for a record
    that cannot be read. Never holds more than ``MAX_RECORD`` bytes of one record."""
    head = stream.read(8192)
    if not head.strip():
        raise CdrFileError(_l("The file is empty."))
    if b"\x00" in head:
        raise CdrFileError(_l("This is not a CSV text file (it contains binary data)."))
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    pending = [head]
    line_no = 0
    start_line = 1
    buffer = b""

    def physical_lines():
        first = pending.pop()
        # the head may end mid-line: glue it to the rest of its line
        rest = b"" if first.endswith(b"\n") else stream.readline(MAX_RECORD + 1)
        chunk = first + rest
        for piece in chunk.splitlines(keepends=True):
            yield piece
        while True:
            line = stream.readline(MAX_RECORD + 1)
            if not line:
                return
            yield line

    for line in physical_lines():
        line_no += 1
        if len(line) > MAX_RECORD and not line.endswith(b"\n"):
            while True:  # skip the rest of an over-long line without keeping it
                more = stream.readline(MAX_RECORD)
                if not more or more.endswith(b"\n"):
                    break
            buffer = b""
            yield line_no, RowError(_("The line is longer than %(n)s KB.", n=MAX_RECORD // 1024))
            start_line = line_no + 1
            continue
        if not buffer:
            start_line = line_no
        buffer += line
        if buffer.count(b'"') % 2:  # a quoted field continues on the next line
            if len(buffer) > MAX_RECORD:
                buffer = b""
                yield start_line, RowError(_("A quoted field is never closed."))
            continue
        record, buffer = buffer, b""
        if not record.strip():
            continue
        if b"\x00" in record:
            yield start_line, RowError(_("The line contains binary data."))
            continue
        try:
            yield start_line, record.decode("utf-8")
        except UnicodeDecodeError:
            yield start_line, RowError(_("The line is not UTF-8 text."))
    if buffer.strip():
        yield start_line, RowError(_("A quoted field is never closed."))


def _is_header(fields: list[str]) -> bool:
    names = {f.strip().lower() for f in fields}
    return {"src", "dst", "duration"} <= names and bool(names & {"calldate", "start"})


# --- one record -------------------------------------------------------------------------------------

def _int(value: str, name: str) -> int:
    value = (value or "").strip()
    if value == "":
        return 0
    try:
        number = int(float(value)) if "." in value else int(value)
    except ValueError:
        raise RowError(_("%(column)s is not a whole number: “%(value)s”.", column=name, value=value[:40])) from None
    if number < 0:
        raise RowError(_("%(column)s is negative: %(value)s.", column=name, value=number))
    return number


def _datetime(value: str, name: str, offset: dt.timedelta, required: bool):
    value = (value or "").strip()
    if not value:
        if required:
            raise RowError(_("%(column)s is empty.", column=name))
        return None
    try:
        stamp = dt.datetime.fromisoformat(value.replace("/", "-") if "/" in value else value)
    except ValueError:
        raise RowError(_("%(column)s is not a date and time: “%(value)s”.", column=name, value=value[:40])) from None
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(dt.UTC).replace(tzinfo=None) + offset
    if stamp.microsecond:
        stamp = stamp.replace(microsecond=0)
    return stamp - offset


def _is_extension(value: str) -> bool:
    """Empty, or a short internal number (an extension, a ring group, a feature code)."""
    return not value or (len(value) <= 6 and value.replace("*", "").replace("#", "").isdigit())


def _extension_of(channel: str) -> str:
    found = _CHANNEL_EXT.match(channel or "")
    return found.group("ext") if found else ""


def parse_row(row: dict, offset: dt.timedelta) -> dict:
    """Validate one CDR (a dict keyed by Asterisk column names); raises RowError with the reason."""
    src = (row.get("src") or "").strip()
    dst = (row.get("dst") or "").strip()
    if not src and not dst:
        raise RowError(_("Both src and dst are empty."))
    start = _datetime(row.get("start") or row.get("calldate"), "start", offset, required=True)
    answer = _datetime(row.get("answer"), "answer", offset, required=False)
    _datetime(row.get("end"), "end", offset, required=False)
    duration = _int(row.get("duration"), "duration")
    billsec = _int(row.get("billsec"), "billsec")
    if billsec > duration:
        raise RowError(_("billsec (%(billsec)s) is longer than duration (%(duration)s).",
                         billsec=billsec, duration=duration))
    disposition = (row.get("disposition") or "").strip().upper()
    if disposition and disposition not in DISPOSITIONS:
        raise RowError(_("Unknown disposition “%(value)s”.", value=disposition[:40]))
    clid = (row.get("clid") or "").strip()
    caller_name = ""
    found = _CLID.match(clid)
    if found:
        caller_name = found.group("name").strip()
    outgoing = _is_extension(src) and not _is_extension(dst)
    outside = dst if outgoing else src
    number, anonymous = normalize_number(outside)
    extension = _extension_of(row.get("channel") if outgoing else row.get("dstchannel"))
    uniqueid = (row.get("uniqueid") or "").strip()
    if uniqueid:
        key = "u:" + uniqueid[:150]
    else:
        raw = f"{start.isoformat()}|{src}|{dst}|{duration}"
        key = "k:" + hashlib.sha256(raw.encode("utf-8")).hexdigest()[:40]
    answered = disposition == "ANSWERED" or (not disposition and answer is not None)
    return {
        "key": key, "direction": "out" if outgoing else "in", "number": number, "anonymous": anonymous,
        "to": (src if outgoing else dst)[:40], "start": start, "answer": answer if answered else None,
        "duration": billsec if answered else 0, "ring": duration, "disposition": disposition,
        "caller_name": caller_name[:120], "extension": extension, "uniqueid": uniqueid[:150],
        "missed": (not outgoing) and disposition in MISSED_DISPOSITIONS,
    }


# --- writing ---------------------------------------------------------------------------------------

class _Writer:
    def __init__(self, report: ImportReport, actor=None):
        self.report = report
        self.actor = actor
        self.users_by_phone = {u.phone: (u.id, u.full_name) for u in
                               User.select(User.id, User.phone, User.full_name).where(User.phone != "")}
        with force_locale("ar"):
            self.text = {
                "in": _("Incoming call from %(number)s"), "out": _("Outgoing call to %(number)s"),
                "missed": _("Missed call from %(number)s"), "anon": _("Incoming call from a withheld number"),
                "anon_missed": _("Missed call from a withheld number"),
                "reason": _("Missed call from %(number)s: call back."),
            }

    def summary(self, rec) -> str:
        who = local_display(rec["number"])
        if rec["direction"] == "out":
            return self.text["out"] % {"number": who or "?"}
        if not who:
            return self.text["anon_missed" if rec["missed"] else "anon"]
        return self.text["missed" if rec["missed"] else "in"] % {"number": who}

    def write(self, batch: list[dict]) -> None:
        if not batch:
            return
        with database.atomic():
            keys = [r["key"] for r in batch]
            known = {k for (k,) in PhoneCall.select(PhoneCall.cdr_key)
                     .where(in_values(PhoneCall.cdr_key, keys)).tuples()}
            fresh, seen = [], set()
            for rec in batch:
                if rec["key"] in known or rec["key"] in seen:
                    self.report.duplicates += 1
                    continue
                seen.add(rec["key"])
                fresh.append(rec)
            if not fresh:
                return
            numbers = list({r["number"] for r in fresh if r["number"].startswith("+")})
            owners: dict[str, list[int]] = {}
            if numbers:
                for ben_id, mobile in (Beneficiary.select(Beneficiary.id, Beneficiary.mobile)
                                       .where(in_values(Beneficiary.mobile, numbers)).tuples()):
                    owners.setdefault(mobile, []).append(ben_id)
            now = utcnow()
            entries = []
            for rec in fresh:
                ids = owners.get(rec["number"], [])
                rec["beneficiary"] = ids[0] if len(ids) == 1 else None
                answerer = self.users_by_phone.get(rec["extension"]) if rec["answer"] else None
                rec["answered_by"] = answerer[0] if answerer else None
                entries.append({
                    "beneficiary": rec["beneficiary"], "channel": "phone", "direction": rec["direction"],
                    "occurred_at": rec["start"], "summary": self.summary(rec)[:300], "body": "",
                    "actor": rec["answered_by"],
                    "data": {
                        "cdr": rec["key"], "source": "cdr", "direction": rec["direction"], "number": rec["number"],
                        "anonymous": rec["anonymous"], "to": rec["to"], "caller_name": rec["caller_name"],
                        "state": "ended", "duration": rec["duration"], "cause": rec["disposition"],
                        "answered_by": answerer[1] if answerer else "", "missed": rec["missed"],
                    },
                })
            entry_ids = {entry.data["cdr"]: entry.id for entry in create_entries(entries, actor=self.actor)}
            calls = []
            for rec in fresh:
                ended = rec["start"] + dt.timedelta(seconds=rec["ring"])
                calls.append({
                    "entry": entry_ids[rec["key"]], "beneficiary": rec["beneficiary"], "source": "cdr",
                    "call_id": None, "cdr_key": rec["key"], "direction": rec["direction"], "number": rec["number"],
                    "anonymous": rec["anonymous"], "to_number": rec["to"], "state": "ended",
                    "started_at": rec["start"], "answered_at": rec["answer"], "ended_at": ended,
                    "duration": rec["duration"], "answered_by": rec["answered_by"], "answering_number": "",
                    "cause": rec["disposition"], "queue": "", "notify_users": "", "missed": rec["missed"],
                    "callback_requested": False, "updated_at": now,
                })
            call_ids = dict(bulk_insert(PhoneCall, calls, returning=("cdr_key", "id")))
            self.report.imported += len(fresh)
            self.report.matched += sum(1 for r in fresh if r["beneficiary"])
            self._callbacks([r for r in fresh if r["missed"]], call_ids, entry_ids)

    def _callbacks(self, missed, call_ids, entry_ids) -> None:
        """A call-back task for each missed call, all in one insert (``create_tasks``)."""
        if not missed:
            return
        self.report.missed += len(missed)
        create_tasks([{
            "beneficiary": rec["beneficiary"], "kind": "call_back",
            "reason": self.text["reason"] % {"number": local_display(rec["number"]) or "?"},
            "due": saudi_date(rec["start"]) + dt.timedelta(days=1),
            "source": {"channel": "phone", "call": call_ids[rec["key"]], "entry": entry_ids[rec["key"]],
                       "number": rec["number"]},
        } for rec in missed], actor=self.actor)
        requested = [call_ids[rec["key"]] for rec in missed]
        PhoneCall.update(callback_requested=True).where(in_values(PhoneCall.id, requested)).execute()


def import_cdr(stream, file_name: str = "", actor=None, batch_size: int = BATCH_SIZE) -> ImportReport:
    """Import a CDR file from a binary stream; returns the report. Raises CdrFileError when the
    file as a whole cannot be read."""
    started = time.perf_counter()
    report = ImportReport(file_name=file_name)
    offset = dt.timedelta(hours=float(current_app.config["PHONE_CDR_UTC_OFFSET"]))
    writer = _Writer(report, actor)
    header = None
    batch: list[dict] = []
    first = True
    current = {"line": 0}
    unreadable: list[tuple[int, str]] = []

    def texts():
        for line_no, record in _records(stream, report):
            if isinstance(record, RowError):
                unreadable.append((line_no, str(record)))
                continue
            current["line"] = line_no
            yield record

    # One csv reader over whole records (a record may span lines inside quotes): much cheaper
    # than a reader per record. After a malformed record it carries on with the next one.
    reader = csv.reader(texts(), strict=True)
    while True:
        try:
            fields = next(reader)
            error = None
        except StopIteration:
            break
        except csv.Error as exc:
            fields, error = None, _("The line is not valid CSV (%(error)s).", error=str(exc))
        while unreadable:
            report.rows += 1
            report.add_error(*unreadable.pop(0))
            first = False
        line_no = current["line"]
        if error:
            report.rows += 1
            report.add_error(line_no, error)
            first = False
            continue
        if first:
            first = False
            if _is_header(fields):
                header = [f.strip().lower() for f in fields]
                report.format = "freepbx"
                continue
            report.format = "asterisk"
        report.rows += 1
        try:
            if header is not None:
                if len(fields) != len(header):
                    raise RowError(_("Expected %(expected)s columns, found %(found)s.",
                                     expected=len(header), found=len(fields)))
                row = dict(zip(header, fields))
            else:
                if not len(ASTERISK_COLUMNS) <= len(fields) <= len(ASTERISK_COLUMNS) + len(ASTERISK_OPTIONAL):
                    raise RowError(_("Expected %(low)s to %(high)s columns, found %(found)s.",
                                     low=len(ASTERISK_COLUMNS), high=len(ASTERISK_COLUMNS) + len(ASTERISK_OPTIONAL),
                                     found=len(fields)))
                row = dict(zip(ASTERISK_COLUMNS + ASTERISK_OPTIONAL, fields))
            batch.append(parse_row(row, offset))
        except RowError as exc:
            report.add_error(line_no, str(exc))
            continue
        if len(batch) >= batch_size:
            writer.write(batch)
            batch = []
    while unreadable:
        report.rows += 1
        report.add_error(*unreadable.pop(0))
    if report.rows == 0 and header is None and not report.format:
        raise CdrFileError(_l("The file is empty."))
    writer.write(batch)
    report.seconds = round(time.perf_counter() - started, 2)
    with database.atomic():
        audit("import", "phone_cdr", file_name[:40], report.as_dict(), actor=actor)
    return report
