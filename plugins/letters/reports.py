"""The letters' part of the managers' reports and of the monthly report (the ``report_sections`` hook): the
letters issued in the period, by template, and how many of them were revoked since."""
from __future__ import annotations

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from peewee import JOIN, fn

from portal.dates import saudi_days_bounds
from portal.reports import Figure, Section, Table, _sum_if, beneficiary_in_branch, chart_for

from .models import Letter, LetterTemplate


def report_sections(start, end, branch):
    lo, hi = saudi_days_bounds(start, end)
    query = (Letter.select(LetterTemplate.name_ar, LetterTemplate.name_en, fn.COUNT(Letter.id),
                           _sum_if(Letter.status == "revoked"))
             .join(LetterTemplate, JOIN.LEFT_OUTER, on=(Letter.template == LetterTemplate.id))
             .where((Letter.issued_at >= lo) & (Letter.issued_at < hi)
                    & Letter.status.in_(("valid", "revoked")))  # a number being issued or spoiled is no letter
             .group_by(LetterTemplate.id, LetterTemplate.name_ar, LetterTemplate.name_en))
    scope = beneficiary_in_branch(Letter.beneficiary, branch)
    if scope is not None:
        query = query.where(scope)
    arabic = str(get_locale() or "ar") == "ar"
    rows = []
    for name_ar, name_en, n, revoked in query.tuples():
        name = (name_ar if arabic or not name_en else name_en) or _("Without a template")
        rows.append((name, [int(n), int(revoked or 0)]))
    rows.sort(key=lambda r: (-r[1][0], r[0]))
    table = Table("letters_by_template", _l("Letters issued by template"), [_("Template"), _("Issued"),
                                                                              _("Revoked since")], rows)
    table.chart = chart_for(table, [0])
    return [Section("letters", _l("Letters"), [
        Figure("issued", _l("Letters issued"), sum(r[1][0] for r in rows)),
    ], [table])]
