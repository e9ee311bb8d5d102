"""Background jobs of the website: drop application drafts nobody resumed before they expired."""
from huey import crontab

from portal.jobs import periodic_task

from .drafts import purge_expired


@periodic_task(crontab(hour="2", minute="30"))
def purge_expired_drafts() -> int:
    """Delete drafts past their expiry (``PORTAL_WEBSITE_DRAFT_DAYS`` after the last save) that were
    never submitted; their uploaded files stay in the content-addressed store."""
    return purge_expired()
