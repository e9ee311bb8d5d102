"""What a message means in the self-service menu, and the menu itself (numbered text for SMS, an interactive
list or buttons for WhatsApp). Pure functions: nothing here reads or writes the database."""
from __future__ import annotations

import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.text import normalize_name

# The choices and the digit that picks each one (fixed, so "1" always means the status).
DIGITS = {"1": "status", "2": "visit", "3": "question", "4": "callback", "5": "apply", "6": "rate", "7": "info",
          "0": "staff"}
NUMBER_OF = {choice: digit for digit, choice in DIGITS.items()}
ORDER = ("status", "visit", "question", "callback", "apply", "rate", "info", "staff")
REPLY_PREFIX = "hr:"  # the id of a WhatsApp list row or button: "hr:status"

# Numbered lines of the text menu, and the short titles of WhatsApp list rows (at most 24 characters).
LINES = {
    "status": _l("The status of my requests"),
    "visit": _l("Book a visit at the office"),
    "question": _l("Ask a question"),
    "callback": _l("Ask for a call-back"),
    "apply": _l("Start a new support request"),
    "rate": _l("Rate our last service"),
    "info": _l("About the association"),
    "staff": _l("Talk to a staff member"),
}
TITLES = {
    "status": _l("My requests"),
    "visit": _l("Book a visit"),
    "question": _l("Ask a question"),
    "callback": _l("Call me back"),
    "apply": _l("New request"),
    "rate": _l("Rate a service"),
    "info": _l("About us"),
    "staff": _l("Talk to staff"),
}

# Words people write instead of a number, in Arabic and English (compared after normalize_name: alef forms,
# ة/ه, tashkeel, case and spaces folded). English words switch the answers to English.
KEYWORDS_AR = {
    "menu": ("قائمة", "القائمة", "قائمه", "القائمه", "مرحبا", "اهلا", "السلام عليكم", "سلام", "ابدا", "البداية",
             "مساعدة", "خدمات", "الخدمات", "رجوع", "عودة"),
    "status": ("حالة", "حالة طلبي", "حالة الطلب", "حالة طلباتي", "طلباتي", "طلبي", "الحالة"),
    "visit": ("موعد", "زيارة", "حجز موعد", "حجز زيارة", "زيارة المكتب"),
    "question": ("سؤال", "استفسار", "لدي سؤال", "عندي سؤال"),
    "callback": ("اتصال", "اتصلوا بي", "اتصل بي", "طلب اتصال", "مكالمة"),
    "apply": ("طلب جديد", "طلب دعم", "تقديم", "تقديم طلب", "طلب مساعدة"),
    "rate": ("تقييم", "قيم", "تقييم الخدمة"),
    "info": ("معلومات", "عن الجمعية", "من نحن"),
    "staff": ("موظف", "الموظف", "التحدث مع موظف", "خدمة العملاء", "انسان"),
}
KEYWORDS_EN = {
    "menu": ("menu", "start", "hi", "hello", "help", "back"),
    "status": ("status", "my requests", "request status"),
    "visit": ("visit", "appointment", "book", "book a visit"),
    "question": ("question", "ask", "inquiry", "enquiry"),
    "callback": ("call", "callback", "call back", "call me"),
    "apply": ("apply", "new request", "support request"),
    "rate": ("rate", "rating", "feedback"),
    "info": ("info", "information", "about"),
    "staff": ("staff", "agent", "human", "officer"),
}
_WORDS: dict[str, tuple[str, str]] = {}
for _lang, _table in (("ar", KEYWORDS_AR), ("en", KEYWORDS_EN)):
    for _choice, _words in _table.items():
        for _word in _words:
            _WORDS[normalize_name(_word)] = (_choice, _lang)
# Around a lone digit people put a dot, a bracket, a dash or the word "رقم" / "no.".
_DIGIT_ONLY = re.compile(r"^(?:رقم|no\.?|number|#)?\s*\(?\s*([0-9])\s*[).\-:]?$")
_PUNCTUATION = re.compile(r"[\s.!?؟،,:;()\-–—«»\"'“”]+")


def parse(text: str, reply_id: str | None = None) -> tuple[str | None, str | None]:
    """``(choice, language)`` of a message: ``choice`` one of ``ORDER`` or ``"menu"``, or None when the message
    is not a menu word; ``language`` ``"ar"``/``"en"`` when the words tell it, else None. Eastern Arabic and
    Persian digits count as digits."""
    if reply_id and reply_id.startswith(REPLY_PREFIX):
        choice = reply_id[len(REPLY_PREFIX):]
        if choice in ORDER or choice == "menu":
            return choice, None
    folded = normalize_name(text or "")
    digit = _DIGIT_ONLY.match(folded)
    if digit:
        return DIGITS.get(digit.group(1)), None
    words = _PUNCTUATION.sub(" ", folded).strip()
    if words in _WORDS:
        return _WORDS[words]
    return None, None


def is_navigation(text: str, reply_id: str | None = None) -> bool:
    """True when a message is a menu word or a lone digit (not, for instance, a question being asked)."""
    return parse(text, reply_id)[0] is not None


def numbered(choices) -> str:
    """The text menu: one line per offered choice, with its digit."""
    return "\n".join(f"{NUMBER_OF[c]} - {LINES[c]}" for c in sorted(choices, key=_position))


def _position(choice: str) -> int:
    # 0 (talk to a staff member) comes last, as on a phone keypad menu
    return ORDER.index(choice)


def interactive(body: str, choices) -> dict:
    """A WhatsApp menu for ``choices``: reply buttons for up to three choices, a list otherwise."""
    ordered = sorted(choices, key=_position)
    if len(ordered) <= 3:
        return {"type": "button", "body": body,
                "buttons": [{"id": REPLY_PREFIX + c, "title": str(TITLES[c])} for c in ordered]}
    return {"type": "list", "body": body, "button": _("Choose a service"),
            "sections": [{"title": "", "rows": [{"id": REPLY_PREFIX + c, "title": f"{NUMBER_OF[c]}. {TITLES[c]}",
                                                 "description": str(LINES[c])} for c in ordered]}]}
