"""Public page content: the shipped text (``content/<slug>.<lang>.md``) unless an admin saved an
edit, rendered from a small, safe subset of Markdown (headings, paragraphs, lists)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup, escape

from portal.db import Prepared
from portal.text import strip_bidi_controls

from .models import PAGE_SLUGS, SitePage

CONTENT_DIR = Path(__file__).parent / "content"
LANGS = ("ar", "en")
_ITEM = re.compile(r"^\s*(?:(-)|(\d+)\.)\s+(.*)$")
_LINK = re.compile(r"\[([^\]\n]+)\]\((/(?!/)[^)\s]*|https://[^)\s]+)\)")


@dataclass
class Page:
    slug: str
    lang: str
    title: str
    body: str
    edited: bool


def shipped(slug: str, lang: str) -> tuple[str, str]:
    """(title, body) of the text shipped with the plugin."""
    text = (CONTENT_DIR / f"{slug}.{lang}.md").read_text(encoding="utf-8")
    return split_title(text)


def split_title(text: str) -> tuple[str, str]:
    lines = text.strip().splitlines()
    if lines and lines[0].startswith("# "):
        return lines[0][2:].strip(), "\n".join(lines[1:]).strip()
    return "", text.strip()


_PAGE = Prepared(lambda slug, lang: SitePage.select().where((SitePage.slug == slug) & (SitePage.lang == lang)).limit(1))


def get_page(slug: str, lang: str) -> Page:
    if slug not in PAGE_SLUGS:
        raise KeyError(slug)
    lang = lang if lang in LANGS else "ar"
    row = _PAGE.first(slug, lang)
    if row is not None:
        return Page(slug, lang, row.title, row.body, True)
    title, body = shipped(slug, lang)
    return Page(slug, lang, title, body, False)


def _inline(text: str) -> Markup:
    """Escape, then allow links to this site's paths or https addresses written as [text](url)."""
    out, last = [], 0
    for m in _LINK.finditer(text):
        out.append(escape(text[last:m.start()]))
        out.append(Markup('<a href="{}">{}</a>').format(m.group(2), m.group(1)))
        last = m.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)


def render_markup(text: str) -> Markup:
    """Headings (``##``, ``###``), paragraphs, bullet and numbered lists; everything else is text."""
    text = strip_bidi_controls(text or "").replace("\r\n", "\n")
    html: list[str] = []
    para: list[str] = []
    items: list[str] = []
    list_tag = None

    def flush_para():
        if para:
            html.append(f"<p>{_inline(' '.join(para))}</p>")
            para.clear()

    def flush_list():
        nonlocal list_tag
        if items:
            html.append(f"<{list_tag}>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + f"</{list_tag}>")
            items.clear()
        list_tag = None

    for raw in text.split("\n"):
        line = raw.rstrip()
        if not line.strip():
            flush_para()
            flush_list()
            continue
        heading = re.match(r"^(#{2,3})\s+(.*)$", line)
        if heading:
            flush_para()
            flush_list()
            level = len(heading.group(1))
            html.append(f"<h{level}>{_inline(heading.group(2).strip())}</h{level}>")
            continue
        item = _ITEM.match(line)
        if item:
            flush_para()
            tag = "ul" if item.group(1) else "ol"
            if list_tag and tag != list_tag:
                flush_list()
            list_tag = tag
            items.append(item.group(3).strip())
            continue
        if items and raw.startswith(" "):
            items[-1] += " " + line.strip()
            continue
        flush_list()
        para.append(line.strip())
    flush_para()
    flush_list()
    return Markup("\n".join(html))  # nosec B704 # every text piece went through _inline, which escapes it
