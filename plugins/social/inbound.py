"""Inbound jobs: process a stored webhook delivery in the background, and process again the
deliveries that failed once their backoff has passed (every minute)."""
from __future__ import annotations

from huey import crontab

from portal.jobs import periodic_task, task

from .processing import due_deliveries, process_delivery


@task()
def process_delivery_task(delivery_id: int) -> None:
    process_delivery(delivery_id)


def retry_due() -> int:
    """Process again the deliveries that failed and whose backoff has passed."""
    count = 0
    for row in list(due_deliveries()):
        process_delivery(row.id)
        count += 1
    return count


@periodic_task(crontab(minute="*"))
def retry_due_deliveries() -> None:
    retry_due()
