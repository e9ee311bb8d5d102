"""Background jobs of the letters plugin (huey through ``portal.jobs``)."""
from portal.jobs import task


@task()
def ocr_incoming(letter_id: int) -> str:
    from .service import ocr_letter

    return ocr_letter(letter_id)


@task()
def issue_batch(batch_id: int, base_url: str | None = None) -> None:
    from .service import run_batch

    run_batch(batch_id, base_url)
