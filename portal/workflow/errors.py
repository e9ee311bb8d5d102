"""Errors raised by the workflow services. Each carries a message in the user's language (lazy
gettext) and, for form input, per-field messages; nothing is written when one is raised."""
from __future__ import annotations


class WorkflowError(Exception):
    """A refused change. ``message`` is shown to the user; ``fields`` maps form fields to messages."""

    status = 422

    def __init__(self, message, fields: dict | None = None):
        super().__init__(str(message))
        self.message = message
        self.fields = dict(fields or {})


class TransitionNotAllowed(WorkflowError):
    """The action is not possible from the case's current status."""

    status = 409


class StaleCase(WorkflowError):
    """Someone changed the case after the form was loaded (a different change, not this one)."""

    status = 409


class ChecklistIncomplete(WorkflowError):
    """A required document is missing or expired at the submission date; ``checklist`` says which."""

    def __init__(self, message, checklist):
        super().__init__(message)
        self.checklist = checklist
