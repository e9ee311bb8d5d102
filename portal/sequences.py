"""Gap-free named counters, safe under concurrent writers on SQLite and PostgreSQL.

The increment is an ``UPDATE ... SET value = value + 1``: the row lock (PostgreSQL) or the write
lock (SQLite) makes concurrent transactions wait for each other, so no two get the same number.
Call it inside the transaction that stores the numbered record, so a rollback returns the number.
"""
from __future__ import annotations

from .db import database
from .models import Counter


def next_value(name: str) -> int:
    with database.atomic():
        Counter.insert(name=name, value=0).on_conflict_ignore().execute()
        Counter.update(value=Counter.value + 1).where(Counter.name == name).execute()
        return Counter.select(Counter.value).where(Counter.name == name).scalar()
