"""Background jobs of the letters plugin (huey through ``portal.jobs``)."""
from huey import crontab

from portal.jobs import periodic_task, task


@task()
def ocr_incoming(letter_id: int) -> str:
    from .service import ocr_letter

    return ocr_letter(letter_id)


@task()
def issue_batch(batch_id: int, base_url: str | None = None) -> None:
    from .service import run_batch

    run_batch(batch_id, base_url)


@periodic_task(crontab(minute="*/10"))
def settle_stalled_letters() -> list[str]:
    """Letters left "issuing" by a process that stopped (``LETTERS_ISSUING_TIMEOUT``) are recorded as spoiled."""
    from .service import settle_stalled

    return settle_stalled()
