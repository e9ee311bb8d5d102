"""Access rules of the reports: the page and its downloads (managers and admins; a delegate reads their branch's
figures), the monthly report PDFs (managers and admins only)."""
from . import rule

REPORTS = ("manager", "admin", "delegate")
MONTHLY = ("manager", "admin")

ACCESS = {
    "reports.index": rule("GET", "/reports/", REPORTS),
    "reports.export": rule("GET", "/reports/export/requests_by_state.csv", REPORTS),
    "reports.produce": rule("POST", "/reports/monthly", MONTHLY),
    "reports.download": rule("GET", "/reports/monthly/{monthly_report}.pdf", MONTHLY),
}


def FIXTURES(app):
    """``{monthly_report}``: a stored monthly report."""
    from portal.db import utcnow
    from portal.models import MonthlyReport
    from portal.uploads import store_bytes

    from pdf_samples import MINIMAL_PDF

    stored = store_bytes(MINIMAL_PDF, "monthly-report-2026-10.pdf", "pdf")
    row = MonthlyReport.create(month="2026-10", sha256=stored.sha256, file_name=stored.file_name, size=stored.size,
                               created_at=utcnow())
    return {"monthly_report": row.id}
