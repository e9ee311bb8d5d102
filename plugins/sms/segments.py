"""How many SMS parts a text takes, and what it costs.

Texts that fit the GSM 03.38 default alphabet travel 7 bits per character: 160 characters in one
message, 153 per part once split (the rest of each part carries the concatenation header). Anything
else — Arabic included — travels as UCS-2: 70 characters in one message, 67 per part. UCS-2 counts
UTF-16 code units, so a character outside the Basic Multilingual Plane (most emoji) takes two.
Characters of the GSM extension table (``{ } [ ] ~ \\ | ^ €`` and form feed) take two septets."""
from __future__ import annotations

from dataclasses import dataclass

GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = set("^{}\\[~]|€\f")

SINGLE = {"gsm7": 160, "ucs2": 70}
PER_PART = {"gsm7": 153, "ucs2": 67}


@dataclass(frozen=True)
class Count:
    encoding: str  # "gsm7" or "ucs2"
    units: int  # septets (gsm7) or UTF-16 code units (ucs2)
    parts: int

    def cost(self, price_per_part: float) -> float:
        return round(self.parts * price_per_part, 2)


def count(text: str) -> Count:
    """The encoding, length in units and number of parts of ``text`` (an empty text is one part)."""
    if all(ch in GSM_BASIC or ch in GSM_EXTENSION for ch in text):
        encoding = "gsm7"
        units = sum(2 if ch in GSM_EXTENSION else 1 for ch in text)
    else:
        encoding = "ucs2"
        units = len(text.encode("utf-16-le")) // 2
    if units <= SINGLE[encoding]:
        parts = 1
    else:
        parts = -(-units // PER_PART[encoding])
    return Count(encoding, units, parts)
