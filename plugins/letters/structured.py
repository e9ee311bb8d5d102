"""The structured template editor's text: a subject and paragraphs of plain text with ``{{ field }}``
merge fields, turned into the Jinja HTML a template version stores, and back.

Staff write sentences, not HTML: each paragraph becomes a ``<p>`` (line breaks kept, text escaped, each
merge field isolated with ``<bdi>``), ``**bold**`` becomes ``<strong>``, and a paragraph that is only a list
field (``{{ missing_documents|lines }}``) stays a block of its own. A body written in the advanced editor
with anything else (conditions, tables, other markup) has no structured form: ``to_paragraphs`` answers
None and only the advanced editor can change it."""
from __future__ import annotations

import html
import re

from markupsafe import escape

FIELD = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\|\s*(lines|paragraphs)\s*)?\}\}")
BLOCK_FILTERS = ("lines", "paragraphs")
_P = re.compile(r"<p>(.*?)</p>", re.S)
_BDI_FIELD = re.compile(r"<bdi>\s*(\{\{[^{}]*\}\})\s*</bdi>")
_STRONG = re.compile(r"<strong>(.*?)</strong>", re.S)
_BR = re.compile(r"<br\s*/?>")
_BOLD = re.compile(r"\*\*(.+?)\*\*", re.S)


class TextProblem(Exception):
    """A paragraph or the subject cannot be saved; ``message`` is for the person editing."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def _inner_to_text(inner: str) -> str | None:
    text = " ".join(inner.split())  # source line breaks inside a paragraph are spaces
    text = _BDI_FIELD.sub(r"\1", text)
    text = _STRONG.sub(r"**\1**", text)
    text = _BR.sub("\n", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    if "<" in text or "{%" in text or "{#" in text:
        return None
    return html.unescape(text)


def to_paragraphs(body: str) -> list[str] | None:
    """The stored body as the structured editor's paragraphs, or None when it has no structured form."""
    paragraphs, pos = [], 0
    body = body or ""
    while pos < len(body):
        rest = body[pos:]
        stripped = rest.lstrip()
        pos += len(rest) - len(stripped)
        if not stripped:
            break
        match = _P.match(body, pos)
        if match:
            text = _inner_to_text(match.group(1))
            if text is None:
                return None
            paragraphs.append(text)
            pos = match.end()
            continue
        match = FIELD.match(body, pos)
        if match and match.group(2) in BLOCK_FILTERS:
            paragraphs.append(match.group(0))
            pos = match.end()
            continue
        return None
    return paragraphs


def subject_text(subject: str) -> str | None:
    """The stored subject as plain text, or None when it uses more than merge fields."""
    if "{%" in subject or "{#" in subject or "<" in subject:
        return None
    return html.unescape(subject)


def _check(text: str, known: set[str], where) -> None:
    if "{%" in text or "{#" in text:
        raise TextProblem(where(_msg("statements")))
    stripped = FIELD.sub("", text)
    if "{{" in stripped or "}}" in stripped:
        broken = re.search(r"\{\{[^}]*\}?\}?|[^{]*\}\}", stripped)
        raise TextProblem(where(_msg("broken", text=(broken.group(0) if broken else "{{").strip()[:40])))
    for match in FIELD.finditer(text):
        if match.group(1) not in known:
            raise TextProblem(where(_msg("unknown", name=match.group(1))))


def _msg(kind: str, **values):
    from flask_babel import gettext as _

    if kind == "statements":
        return _("conditions and loops ({% … %}) are written in the advanced editor.")
    if kind == "broken":
        return _("the merge field “%(text)s” is not written as {{ name }}.", text=values["text"])
    if kind == "unknown":
        return _("unknown merge field “%(name)s”; use one of the listed fields.", name=values["name"])
    if kind == "block":
        return _("a list field (|lines or |paragraphs) must be a paragraph of its own.")
    raise ValueError(kind)


def build_subject(text: str, known: set[str]) -> str:
    from flask_babel import gettext as _

    text = " ".join((text or "").split())
    _check(text, known, lambda m: _("Subject: %(problem)s", problem=m))
    if any(m.group(2) for m in FIELD.finditer(text)):
        raise TextProblem(_("Subject: %(problem)s", problem=_msg("block")))
    return text


def build_body(paragraphs: list[str], known: set[str]) -> str:
    """The Jinja HTML for the paragraphs; raises TextProblem naming the paragraph."""
    from flask_babel import gettext as _

    out = []
    kept = [p.replace("\r\n", "\n").strip() for p in paragraphs if p and p.strip()]
    for number, text in enumerate(kept, start=1):
        def where(message, number=number):
            return _("Paragraph %(n)s: %(problem)s", n=number, problem=message)

        _check(text, known, where)
        block = FIELD.fullmatch(text)
        if block and block.group(2):
            out.append(block.group(0))
            continue
        if any(m.group(2) for m in FIELD.finditer(text)):
            raise TextProblem(where(_msg("block")))
        out.append("<p>" + "<br>".join(_line_html(line) for line in text.split("\n")) + "</p>")
    return "\n".join(out) + ("\n" if out else "")


def _line_html(line: str) -> str:
    parts, pos = [], 0
    for match in FIELD.finditer(line):
        parts.append(_text_html(line[pos:match.start()]))
        parts.append("<bdi>{{ %s }}</bdi>" % match.group(1))
        pos = match.end()
    parts.append(_text_html(line[pos:]))
    return "".join(parts).strip()


def _text_html(text: str) -> str:
    pieces, pos = [], 0
    for match in _BOLD.finditer(text):
        pieces.append(str(escape(text[pos:match.start()])))
        pieces.append("<strong>%s</strong>" % escape(match.group(1)))
        pos = match.end()
    pieces.append(str(escape(text[pos:])))
    return "".join(pieces)


def move(paragraphs: list[str], op: str) -> list[str]:
    """Apply an editor button (``add:N``, ``add:end``, ``del:N``, ``up:N``, ``down:N``) to the list."""
    paragraphs = list(paragraphs)
    kind, _sep, where = (op or "").partition(":")
    if kind == "add":
        index = len(paragraphs) if where == "end" else _index(where, len(paragraphs))
        if index is not None:
            paragraphs.insert(min(index + (0 if where == "end" else 1), len(paragraphs)), "")
        return paragraphs
    index = _index(where, len(paragraphs))
    if index is None:
        return paragraphs
    if kind == "del":
        del paragraphs[index]
    elif kind == "up" and index > 0:
        paragraphs[index - 1], paragraphs[index] = paragraphs[index], paragraphs[index - 1]
    elif kind == "down" and index < len(paragraphs) - 1:
        paragraphs[index + 1], paragraphs[index] = paragraphs[index], paragraphs[index + 1]
    return paragraphs


def _index(text: str, length: int) -> int | None:
    return int(text) if text.isdigit() and int(text) < length else None
