"""Access rules of the data-protection screens and the audit log."""
from . import rule

EDIT = ("officer", "delegate", "admin")
VIEW = ("officer", "delegate", "admin", "manager")
RIGHT = ("admin", "manager")  # privacy.export, privacy.erase, audit.read
REVIEW = ("officer", "admin", "manager")  # privacy.review


def FIXTURES(app):
    """A pending correction request on the TAIF beneficiary."""
    from portal.models import Beneficiary, CorrectionRequest

    ben = Beneficiary.select().order_by(Beneficiary.id).first()
    req = CorrectionRequest.create(beneficiary=ben, field="city", current_value="", requested_value="جدة",
                                   channel="phone")
    return {"correction": req.id}


ACCESS = {
    "privacy.page": rule("GET", "/beneficiaries/{ben}/privacy", VIEW),
    "privacy.consent": rule("POST", "/beneficiaries/{ben}/consent", EDIT),
    "privacy.correction": rule("POST", "/beneficiaries/{ben}/corrections", EDIT),
    "privacy.review": rule("POST", "/corrections/{correction}/review", REVIEW),
    "privacy.export": rule("GET", "/beneficiaries/{ben}/export.zip", RIGHT),
    "privacy.erase": rule("POST", "/beneficiaries/{ben}/erase", RIGHT),
    "audit.index": rule("GET", "/admin/audit", RIGHT),
    "audit.export": rule("GET", "/admin/audit.csv", RIGHT),
}
