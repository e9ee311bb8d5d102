"""Arabic text helpers: digit folding and the normalised search form of names."""
from __future__ import annotations

import re
import unicodedata

# Eastern Arabic (٠-٩) and Persian (۰-۹) digits -> ASCII.
_DIGITS = {ord(c): str(i) for i, c in enumerate("٠١٢٣٤٥٦٧٨٩")}
_DIGITS.update({ord(c): str(i) for i, c in enumerate("۰۱۲۳۴۵۶۷۸۹")})

_TASHKEEL = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]")
_TATWEEL = "\u0640"
# Bidi controls and zero-width characters that must never reach a search form.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_LETTERS = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ة": "ه",
        "ى": "ي",
        "ؤ": "و",
        "ئ": "ي",
        "ک": "ك",
        "ی": "ي",
    }
)
_SPACES = re.compile(r"\s+")
# C0 controls but tab, line feed and carriage return; DEL; C1 controls. NUL breaks PostgreSQL text.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# "عبد الله", "عبد  الرحمن" -> "عبدالله", "عبدالرحمن": the compound is one name.
_ABD = re.compile(r"\bعبد\s+(?=ال)")
_ABU = re.compile(r"\b(ابو|ابي|ابا)\s+")


def fold_digits(value: str | None) -> str:
    """Turn Eastern Arabic and Persian digits into ASCII digits."""
    if not value:
        return ""
    return value.translate(_DIGITS)


def only_digits(value: str | None) -> str:
    """The ASCII digits of ``value`` after folding Arabic-Indic and Persian ones (other scripts' digits,
    which ``str.isdigit`` also accepts, are dropped: what comes out is safe for ``int`` and ``compare_digest``)."""
    return "".join(ch for ch in fold_digits(value) if "0" <= ch <= "9")


def normalize_name(value: str | None) -> str:
    """The search form of an Arabic (or Latin) name.

    Alef forms become ا, ة becomes ه, ى becomes ي, tashkeel and tatweel are removed,
    "عبد ال..." is joined, case is folded and white space collapsed.
    """
    if not value:
        return ""
    text = unicodedata.normalize("NFKC", value)
    text = _INVISIBLE.sub("", text)
    text = _TASHKEEL.sub("", text).replace(_TATWEEL, "")
    text = text.translate(_LETTERS)
    text = fold_digits(text).casefold()
    text = _SPACES.sub(" ", text).strip()
    text = _ABD.sub("عبد", text)
    return text


_NAME_WORD = re.compile(r"[^\W\d_]+")
_KUNYA = ("ابو", "ابي", "ابا")


def name_parts(value: str | None) -> list[str]:
    """The words of ``normalize_name``: letters only (digits, punctuation and LIKE wildcards dropped)."""
    return _NAME_WORD.findall(normalize_name(value))


def name_words(value: str | None) -> list[str]:
    """The words a file is found by, from its name: each word of ``normalize_name`` (digits and punctuation
    dropped), and the spellings people also type for it: "عبدالله" is found by "الله" too (it is written
    "عبد الله" as often), "الحربي" by "حربي", "ابو بكر" by "ابوبكر" and "ابوبكر" by "بكر". A search word
    matches a file when it begins one of these words (``portal.name_index``)."""
    words = name_parts(value)
    found = []
    for i, word in enumerate(words):
        found.append(word)
        if word.startswith("عبدال") and len(word) > 5:
            found.append(word[3:])
        if word.startswith("ال") and len(word) >= 5:
            found.append(word[2:])
        if word in _KUNYA and i + 1 < len(words):
            found.append(word + words[i + 1])
        elif word[:3] in _KUNYA and len(word) >= 6:
            found.append(word[3:])
    return list(dict.fromkeys(w[:60] for w in found))


def search_key(value: str | None) -> str:
    """The stored search key of a name: its ``name_words`` between spaces (" محمد عبدالله الله "), so that a
    word's start is `` word`` and ``LIKE '% word%'`` finds it (PostgreSQL, with a trigram index)."""
    words = name_words(value)
    return f" {' '.join(words)} " if words else ""


def strip_bidi_controls(value: str | None) -> str:
    """Remove Unicode direction overrides and zero-width characters from untrusted text."""
    if not value:
        return ""
    return _INVISIBLE.sub("", value)


def strip_controls(value: str) -> str:
    """``value`` without NUL and other control characters (tab, newline and CR kept)."""
    return _CONTROLS.sub("", value) if _CONTROLS.search(value) else value


def clean_text(value: str | None) -> str:
    """Trim, fold Unicode compatibility forms, drop control characters and direction controls."""
    if value is None:
        return ""
    return strip_bidi_controls(strip_controls(unicodedata.normalize("NFC", str(value)))).strip()




# --- bidirectional text ------------------------------------------------------------------------------
# A reference, phone number, ID or date inside Arabic text is shown in the wrong order unless it is
# isolated: FSI (first strong isolate) ... PDI in plain text, <bdi dir="ltr"> in HTML (portal.templating).
FSI, PDI = "\u2068", "\u2069"

# The tokens that must never stand bare in right-to-left text, most specific first:
# letter and request references (OUT-1448-000012, Q1448-000012, 1448-000123), dates (1448-09-01,
# 01/09/1448, the pattern YYYY-MM-DD), phone numbers (+966 50 123 4567, 0501234567) and
# ID or file numbers (six digits and more), amounts with decimals (1,500.00), URLs and e-mail addresses.
TOKEN = re.compile(
    r"(?<![\w+/.@-])(?:"
    r"https?://[^\s<>\u2068\u2069]+[^\s<>.,:;!?)\]\u060c\u061b\u2068\u2069]"
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
    r"|[A-Z]{2,4}-\d{4}-\d{4,6}"
    r"|Q?\d{4}-\d{6}"
    r"|\d{4}[-/]\d{1,2}[-/]\d{1,2}|\d{1,2}[-/]\d{1,2}[-/]\d{4}"
    r"|(?:YYYY|DD|MM)(?:[-/](?:YYYY|MM|DD)){2}"
    r"|\+\d{1,3}(?:[ \-]?\d){6,14}"
    r"|0\d{2}[ \-]?\d{3}[ \-]?\d{4}"
    r"|\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d+"
    r"|\d{6,}"
    r")(?![\w])"
)


def isolate(value) -> str:
    """``value`` between FSI and PDI, for a token placed inside plain text (flash messages, messages
    sent through ``send_message``, PDF text, page titles). Empty stays empty."""
    if value is None:
        return ""
    text = str(value)
    if not text or (text.startswith(FSI) and text.endswith(PDI)):
        return text
    return f"{FSI}{text}{PDI}"


def _inside_isolate(text: str, start: int) -> bool:
    return text.rfind(FSI, 0, start) > text.rfind(PDI, 0, start)


def isolate_tokens(text: str | None) -> str:
    """Plain ``text`` with every reference-, phone-, ID-, amount- or date-shaped token isolated
    (FSI ... PDI). Tokens already inside an isolate are left alone, so applying it twice changes nothing."""
    if not text:
        return ""
    text = str(text)
    out, last = [], 0
    for match in TOKEN.finditer(text):
        if _inside_isolate(text, match.start()):
            continue
        out.append(text[last:match.start()])
        out.append(FSI + match.group(0) + PDI)
        last = match.end()
    out.append(text[last:])
    return "".join(out)


# Dashes people (and keyboards) put between the two parts of a reference.
_DASHES = re.compile("[\u002d\u058a\u05be\u2010-\u2015\u2043\u2212\ufe58\ufe63\uff0d]")
_REF_FORWARD = re.compile(r"(\d{4})-(\d{6})")
_REF_REVERSED = re.compile(r"(\d{6})-(\d{4})")


def normalize_reference(value: str | None) -> str:
    """The canonical form of a typed request (``1448-000123``) or inquiry (``Q1448-000012``) reference.

    Forgiving: Eastern Arabic and Persian digits, stray spaces, direction marks and zero-width
    characters, any dash (or a space) between the parts, and the parts in either order
    (``000123-1448`` is how the reference looks when copied from an Arabic sentence). Returns ""
    when what was typed is not shaped like a reference."""
    if not value:
        return ""
    text = unicodedata.normalize("NFKC", str(value))
    text = _INVISIBLE.sub("", text).replace("\u061c", "")
    text = fold_digits(text).upper().strip()
    prefix = ""
    if text.startswith("Q") or text.endswith("Q"):
        prefix = "Q"
        text = text[1:] if text.startswith("Q") else text[:-1]
    text = _DASHES.sub("-", text)
    text = re.sub(r"\s*-\s*|\s+", "-", text.strip().strip("-").strip())
    text = re.sub(r"-{2,}", "-", text)
    match = _REF_FORWARD.fullmatch(text)
    if match:
        return f"{prefix}{match.group(1)}-{match.group(2)}"
    match = _REF_REVERSED.fullmatch(text)
    if match:
        return f"{prefix}{match.group(2)}-{match.group(1)}"
    return ""
