"""The two floors every Sila figure is compared with, served by the same gunicorn setup as Sila itself.

- ``hello``: a Flask application that answers one short text: what the server and the load generator cost.
- ``rows``: Flask + peewee reading 200 beneficiaries of the benchmark database into a plain template: what a
  page that does honest database work costs before anything of Sila's own is added.
"""
from __future__ import annotations

import os

import peewee
from flask import Flask, render_template_string

hello = Flask("hello")


@hello.get("/")
def hello_index():
    return "hello"


rows = Flask("rows")
_db = peewee.SqliteDatabase(None)
_url = os.environ.get("BENCH_FLOOR_DATABASE_URL", "")
if _url.startswith("sqlite"):
    _db.init(_url.split(":///", 1)[1], pragmas={"journal_mode": "wal", "cache_size": -16000})
elif _url:
    from playhouse.db_url import connect

    _db = connect("psycopg3://" + _url.split("://", 1)[1])

PAGE = """<!doctype html><html lang="ar" dir="rtl"><meta charset="utf-8"><title>rows</title><table>
{% for r in rows %}<tr><td>{{ r[0] }}</td><td>{{ r[1] }}</td><td>{{ r[2] }}</td></tr>{% endfor %}</table>"""


@rows.get("/")
def rows_index():
    _db.connect(reuse_if_open=True)
    try:
        cursor = _db.execute_sql(
            "SELECT id, first_name || ' ' || family_name, national_id FROM beneficiary ORDER BY id DESC LIMIT 200")
        return render_template_string(PAGE, rows=cursor.fetchall())
    finally:
        _db.close()
