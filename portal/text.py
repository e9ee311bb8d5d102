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


