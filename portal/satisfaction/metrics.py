"""The satisfaction figures, from aggregate queries only (no screen reads who gave which score).

- CSAT: the share (0-100) of overall scores of 4 or 5 among the answers;
- NPS: the share of promoters (recommend 9-10) minus the share of detractors (0-6), among the answers that
  gave a recommend score (-100 to 100);
- response rate: answered surveys among the surveys offered (sent, or answered another way) in the period.

A staff member's or a branch's figures are shown only from ``PORTAL_SATISFACTION_MIN_ANSWERS`` (5) answers up.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask import current_app
from peewee import SQL, fn
from peewee import Case as SqlCase

from ..listing import in_saudi_days
from .models import DIMENSIONS, Survey, SurveyAnswer

GROUPS = ("channel", "service", "branch", "month", "staff")
PROTECTED_GROUPS = ("branch", "staff")  # people and small teams: only from k answers up


def csat_of(scores) -> float | None:
    """CSAT of a list of overall scores (1-5): None for no answer."""
    scores = [s for s in scores if s is not None]
    return csat_from_counts(sum(1 for s in scores if s >= 4), len(scores))


def nps_of(scores) -> float | None:
    """NPS of a list of recommend scores (0-10): None for no answer."""
    scores = [s for s in scores if s is not None]
    return nps_from_counts(sum(1 for s in scores if s >= 9), sum(1 for s in scores if s <= 6), len(scores))


def csat_from_counts(satisfied: int, total: int) -> float | None:
    return round(100.0 * satisfied / total, 1) if total else None


def nps_from_counts(promoters: int, detractors: int, total: int) -> float | None:
    return round(100.0 * (promoters - detractors) / total, 1) if total else None


def rate_from_counts(answered: int, offered: int) -> float | None:
    return round(100.0 * answered / offered, 1) if offered else None


def min_answers() -> int:
    return int(current_app.config["SATISFACTION_MIN_ANSWERS"])


@dataclass
class Figures:
    """One group's figures."""

    key: object = None
    responses: int = 0
    satisfied: int = 0
    promoters: int = 0
    detractors: int = 0
    recommends: int = 0
    offered: int = 0
    answered: int = 0
    dimensions: dict = field(default_factory=dict)  # key -> average (1-5) or None
    scores: dict = field(default_factory=dict)  # overall score -> count
    hidden: bool = False  # fewer answers than the k rule asks: shown as "not enough answers yet"

    @property
    def csat(self):
        return None if self.hidden else csat_from_counts(self.satisfied, self.responses)

    @property
    def nps(self):
        return None if self.hidden else nps_from_counts(self.promoters, self.detractors, self.recommends)

    @property
    def response_rate(self):
        return None if self.hidden else rate_from_counts(self.answered, self.offered)

    def as_json(self) -> dict:
        return {"responses": self.responses, "csat": self.csat, "nps": self.nps, "response_rate": self.response_rate}


def _group_column(group: str | None):
    return {
        None: None,
        "channel": Survey.channel,
        "service": fn.COALESCE(fn.NULLIF(Survey.request_type, ""), Survey.kind),
        "branch": Survey.branch,
        "staff": Survey.staff,
        "month": SurveyAnswer.month,
    }[group]


def _filters(query, *, first, last, channel, date_field):
    query = in_saudi_days(query, date_field, first, last)
    if channel:
        query = query.where(Survey.channel == channel)
    return query


def figures(group: str | None = None, *, first: dt.date | None = None, last: dt.date | None = None,
            channel: str = "") -> list[Figures]:
    """The figures of the answers given from ``first`` to ``last`` (Saudi days), in total (``group`` None: one
    row) or one row per channel, service, branch, month or staff member. Three aggregate queries."""
    column = _group_column(group)
    satisfied = fn.SUM(SqlCase(None, [(SurveyAnswer.overall >= 4, 1)], 0))
    promoters = fn.SUM(SqlCase(None, [(SurveyAnswer.recommend >= 9, 1)], 0))
    detractors = fn.SUM(SqlCase(None, [(SurveyAnswer.recommend <= 6, 1)], 0))
    columns = [fn.COUNT(SurveyAnswer.id).alias("responses"), satisfied.alias("satisfied"),
               promoters.alias("promoters"), detractors.alias("detractors"),
               fn.COUNT(SurveyAnswer.recommend).alias("recommends")]
    columns += [fn.AVG(getattr(SurveyAnswer, d)).alias(f"avg_{d}") for d in DIMENSIONS]
    if column is not None:
        columns.insert(0, column.alias("key"))
    query = SurveyAnswer.select(*columns).join(Survey, on=(SurveyAnswer.survey == Survey.id))
    query = _filters(query, first=first, last=last, channel=channel, date_field=SurveyAnswer.at)
    # Grouped by position: the service's expression carries a bound parameter, which PostgreSQL would not
    # recognise as the same expression in GROUP BY.
    if column is not None:
        query = query.group_by(SQL("1"))
    rows: dict = {}
    for row in query.dicts():
        key = row.get("key")
        if column is None and not row["responses"]:
            continue
        rows[key] = Figures(key=key, responses=int(row["responses"] or 0), satisfied=int(row["satisfied"] or 0),
                            promoters=int(row["promoters"] or 0), detractors=int(row["detractors"] or 0),
                            recommends=int(row["recommends"] or 0),
                            dimensions={d: (round(float(row[f"avg_{d}"]), 2) if row[f"avg_{d}"] is not None
                                            else None) for d in DIMENSIONS})
    # The score distribution (1-5) of each group, for the chart.
    dist = SurveyAnswer.select(*([column.alias("key")] if column is not None else []), SurveyAnswer.overall,
                               fn.COUNT(SurveyAnswer.id).alias("n")).join(Survey, on=(SurveyAnswer.survey == Survey.id))
    dist = _filters(dist, first=first, last=last, channel=channel, date_field=SurveyAnswer.at)
    dist = dist.group_by(SQL("1"), SQL("2")) if column is not None else dist.group_by(SurveyAnswer.overall)
    for row in dist.dicts():
        target = rows.get(row.get("key"))
        if target is not None:
            target.scores[int(row["overall"])] = int(row["n"])
    # Offered and answered surveys made in the period (the response rate); a month has none of its own.
    if group != "month":
        answered = fn.SUM(SqlCase(None, [(Survey.answered_at.is_null(False), 1)], 0))
        offered_q = Survey.select(*([column.alias("key")] if column is not None else []),
                                  fn.COUNT(Survey.id).alias("offered"), answered.alias("answered"))
        offered_q = offered_q.where(Survey.sent_at.is_null(False) | Survey.answered_at.is_null(False))
        offered_q = _filters(offered_q, first=first, last=last, channel=channel, date_field=Survey.created_at)
        if column is not None:
            offered_q = offered_q.group_by(SQL("1"))
        for row in offered_q.dicts():
            key = row.get("key")
            if not row["offered"]:
                continue
            target = rows.setdefault(key, Figures(key=key, dimensions={d: None for d in DIMENSIONS}))
            target.offered, target.answered = int(row["offered"] or 0), int(row["answered"] or 0)
    result = list(rows.values())
    if group in PROTECTED_GROUPS:
        k = min_answers()
        for row in result:
            if row.responses < k:
                row.hidden = True
                row.dimensions = {d: None for d in DIMENSIONS}
                row.scores = {}
    result.sort(key=lambda r: (str(r.key) if group == "month" else "", -r.responses, str(r.key)))
    return result


def total(*, first=None, last=None, channel: str = "") -> Figures:
    rows = figures(None, first=first, last=last, channel=channel)
    return rows[0] if rows else Figures(dimensions={d: None for d in DIMENSIONS})


def summary(*, first=None, last=None, channel: str = "") -> dict:
    """The API's summary: totals and one entry per channel."""
    body = total(first=first, last=last, channel=channel).as_json()
    body["by_channel"] = {str(row.key or ""): row.as_json()
                          for row in figures("channel", first=first, last=last, channel=channel)}
    return body
