"""HTML to PDF for the core's own documents (the data-protection export's timeline): WeasyPrint with the
Arabic fonts the app serves (``portal.assets.FONTS``, from PyPI font packages), loading nothing but those
font files and inline ``data:`` URLs."""
from __future__ import annotations

from pathlib import Path

from markupsafe import Markup

from .assets import FONTS, font_path

FAMILIES = {"plex-arabic": "IBM Plex Sans Arabic", "amiri": "Amiri"}


def _font_files() -> list[tuple[str, int, str]]:
    files = []
    for key, (_package, weight) in FONTS.items():
        family = FAMILIES["amiri" if key.startswith("amiri") else "plex-arabic"]
        try:
            files.append((family, weight, Path(font_path(key)).as_uri()))
        except Exception:  # a missing font package: the family falls back to the next in the stack
            continue
    return files


def font_faces() -> Markup:
    return Markup("\n".join(  # nosec B704 # font family names and file URIs from the font table, nothing typed
        f'@font-face {{ font-family: "{family}"; font-weight: {weight}; src: url("{uri}"); }}'
        for family, weight, uri in _font_files()
    ))


def html_to_pdf(html: str) -> bytes:
    import logging

    import weasyprint
    from weasyprint.urls import URLFetcher

    allowed = {uri for _family, _weight, uri in _font_files()}

    class Fetcher(URLFetcher):
        def fetch(self, url, headers=None):
            if url.startswith("data:") or url in allowed:
                return super().fetch(url, headers)
            raise ValueError(f"core documents may not load {url[:80]}")

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    return weasyprint.HTML(string=html, url_fetcher=Fetcher(allowed_protocols=("data", "file"))).write_pdf()
