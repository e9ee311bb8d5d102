"""The bidirectional-text checker of the page tests: a reference, phone number, ID or date shown in
right-to-left text must stand inside an isolate (``<bdi>``, an element with ``dir="ltr"``, a form
control, or FSI ... PDI in text that cannot hold markup), else it is displayed in the wrong order
(``000101-1448``, ``…966+``)."""
from __future__ import annotations

import re
from html.parser import HTMLParser

# Written independently of portal.text.TOKEN on purpose: the test must not trust the code it checks.
SHAPES = {
    "reference": r"Q?\d{4}-\d{6}|\d{6}-\d{4}",
    "date": r"\d{4}[-/]\d{1,2}[-/]\d{1,2}|\d{1,2}[-/]\d{1,2}[-/]\d{4}|YYYY-MM-DD|DD/MM/YYYY",
    "phone": r"\+\d[\d \-]{7,16}\d|\b05\d[ \-]?\d{3}[ \-]?\d{4}\b",
    "ID": r"\b[12]\d{9}\b",
}
TOKEN = re.compile("|".join(f"(?P<{name.lower()}>{rx})" for name, rx in SHAPES.items()))
_ISOLATED_TEXT = re.compile("\u2068[^\u2068\u2069]*\u2069")
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
_SKIP = {"script", "style", "textarea", "select", "option", "svg"}


class _Checker(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []  # (tag, isolates or skipped)
        self.bare: list[str] = []

    def _isolated(self) -> bool:
        return any(flag for _tag, flag in self.stack)

    def handle_starttag(self, tag, attrs):
        if tag in _VOID:
            return
        attrs = dict(attrs)
        flag = tag in ("bdi",) or tag in _SKIP or (attrs.get("dir") or "").lower() == "ltr"
        self.stack.append((tag, flag))

    def handle_startendtag(self, tag, attrs):
        pass

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        if self._isolated():
            return
        text = _ISOLATED_TEXT.sub(" ", data)
        for match in TOKEN.finditer(text):
            start, end = max(match.start() - 30, 0), match.end() + 30
            self.bare.append(f"{match.lastgroup}: {match.group(0)!r} in {text[start:end].strip()!r}")


def bare_tokens(html: str) -> list[str]:
    """Every reference-, phone-, ID- or date-shaped token of ``html`` that stands outside an isolate,
    with the text around it."""
    checker = _Checker()
    checker.feed(html)
    checker.close()
    return checker.bare
