"""The audit trail: who did what to which record, when and from where."""
from __future__ import annotations

from flask import g, has_request_context
from flask_login import current_user

from .models import AuditEvent


def audit(action: str, object_type: str, object_id="", details=None, actor=None) -> AuditEvent:
    if actor is None and has_request_context():
        actor = getattr(g, "api_user", None)
        if actor is None and current_user and current_user.is_authenticated:
            actor = current_user._get_current_object()
    ip = getattr(g, "audit_ip", "") if has_request_context() else ""
    return AuditEvent.create(
        actor=actor, action=action, object_type=object_type, object_id=str(object_id),
        details=details, ip=ip or "",
    )
