"""HTML to PDF bytes for letters, keeping between documents what WeasyPrint can reuse: one font configuration
per thread (each ``@font-face`` file is copied into fontconfig once, and Pango's font map and shaping caches
stay warm) and one URL fetcher per set of allowed URLs. It imports nothing of Flask or the database, so the
child processes of a batch (``service.run_batch``) turn HTML (and its QR codes) into PDF bytes with it and
nothing else."""
from __future__ import annotations

import logging
import threading

_local = threading.local()
_fetchers: dict = {}
# Where ``render.document_html(doc, qr_codes)`` left a QR code for ``render_pdf`` to draw (an image source:
# letters, digits and a colon, nothing the escaping changes).
QR_PLACEHOLDER = "sila-qr:"


def qr_data_uri(url: str) -> str:
    import segno

    return segno.make(url, error="m").svg_data_uri(scale=4, border=1, dark="#000")


def fetcher(allowed: frozenset):
    """WeasyPrint URL fetcher limited to ``allowed`` (the letters' font files) and inline ``data:`` URLs: a
    template's CSS cannot read other local files or reach the network."""
    found = _fetchers.get(allowed)
    if found is None:
        from weasyprint.urls import URLFetcher

        class LetterFetcher(URLFetcher):
            def fetch(self, url, headers=None):
                if url.startswith("data:") or url in allowed:
                    return super().fetch(url, headers)
                raise ValueError(f"letters may not load {url[:80]}")

        found = _fetchers[allowed] = LetterFetcher(allowed_protocols=("data", "file"))
    return found


def font_config():
    """This thread's WeasyPrint font configuration (Pango is not thread-safe: one per thread). WeasyPrint
    names each added font face by its rule, so the same ``@font-face`` in the next letter is not loaded again."""
    config = getattr(_local, "font_config", None)
    if config is None:
        from weasyprint.text.fonts import FontConfiguration

        config = _local.font_config = FontConfiguration()
    return config


def render_pdf(html: str, allowed: frozenset, qr_codes: dict | None = None) -> tuple[bytes, int]:
    """PDF bytes and the page count of ``html``, its QR code placeholders (placeholder -> URL) drawn first."""
    import weasyprint

    for placeholder, url in (qr_codes or {}).items():
        html = html.replace(f'"{placeholder}"', f'"{qr_data_uri(url)}"')

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    document = weasyprint.HTML(string=html, url_fetcher=fetcher(allowed)).render(font_config=font_config())
    return document.write_pdf(), len(document.pages)


def warm() -> None:
    """Import WeasyPrint before the batch pool's processes are forked from the fork server, so each child
    starts with it loaded."""
    import weasyprint  # noqa: F401
