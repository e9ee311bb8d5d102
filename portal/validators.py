"""Validation of Saudi identifiers and phone numbers. Messages are lazy and translatable."""
from __future__ import annotations

import phonenumbers
from flask_babel import lazy_gettext as _l

from .text import clean_text, fold_digits


class ValidationError(ValueError):
    """A value that cannot be accepted; ``message`` is shown to the user."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        n = int(char)
        if index % 2 == 1:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


def clean_national_id(value: str | None) -> str:
    """Return the 10-digit national ID / iqama number or raise ValidationError.

    Accepts Eastern Arabic digits and stray spaces or dashes.
    """
    raw = fold_digits(value or "").strip()
    digits = "".join(ch for ch in raw if ch.isdigit())
    if not raw:
        raise ValidationError(_l("National ID or iqama number is required."))
    if any(not (ch.isdigit() or ch in " -") for ch in raw):
        raise ValidationError(_l("The ID number may contain digits only."))
    if len(digits) != 10:
        raise ValidationError(
            _l("The ID number must be exactly 10 digits (you entered %(n)s).", n=len(digits))
        )
    if digits[0] not in "12":
        raise ValidationError(
            _l("The ID number starts with 1 for a citizen or 2 for a resident.")
        )
    if not luhn_ok(digits):
        raise ValidationError(_l("The ID number is not valid: its check digit does not match."))
    return digits


def id_kind(national_id: str) -> str:
    return "citizen" if national_id.startswith("1") else "resident"


def clean_mobile(value: str | None, region: str = "SA", saudi_only: bool = True) -> str:
    """Parse a phone number typed in any common format and return it in E.164.

    ``0501234567``, ``050 123 4567``, ``+966501234567``, ``00966501234567``, ``٠٥٠١٢٣٤٥٦٧``
    all give ``+966501234567``.
    """
    raw = fold_digits(value or "").strip()
    if not raw:
        raise ValidationError(_l("Mobile number is required."))
    if raw.startswith("00"):
        raw = "+" + raw[2:]
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise ValidationError(_l("This is not a phone number.")) from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(_l("This phone number is not valid."))
    if saudi_only and phonenumbers.region_code_for_number(number) != "SA":
        raise ValidationError(_l("Please enter a Saudi mobile number (05xxxxxxxx)."))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def clean_contact_details(form, values: dict, errors: dict) -> None:
    """The contact details of a form into ``values``, each refusal into ``errors`` under its field: the mobile
    (required, in any of the usual Saudi formats), the national ID when one is typed (check digit), and the
    email already cleaned into ``values["email"]``, refused without an "@"."""
    if values.get("email") and "@" not in values["email"]:
        errors["email"] = _l("This is not an email address.")
    try:
        values["mobile"] = clean_mobile(form.get("mobile"))
    except ValidationError as exc:
        errors["mobile"] = exc.message
    values["national_id"] = ""
    if clean_text(form.get("national_id")):
        try:
            values["national_id"] = clean_national_id(form.get("national_id"))
        except ValidationError as exc:
            errors["national_id"] = exc.message


def max_length(n: int):
    """A WTForms ``Length(max=n)`` whose message comes from our catalog.

    WTForms' own Arabic catalog leaves most plural forms of its length messages empty, so a
    plain ``Length(max=300)`` shows English on an Arabic page. Use this in every FlaskForm.
    """
    from wtforms.validators import Length

    return Length(max=n, message=_l("Too long: at most %(n)s characters.", n=n))


def clean_texts(data: dict, specs, errors: dict) -> dict:
    """Clean the text fields ``specs`` — (name, longest length, required) — of ``data``; a required one left
    empty or one too long gets its message in ``errors``. Returns the cleaned values by name."""
    values = {}
    for key, limit, required in specs:
        value = clean_text(data.get(key))
        if required and not value:
            errors[key] = _l("This field is required.")
        elif len(value) > limit:
            errors[key] = _l("Too long: at most %(n)s characters.", n=limit)
        values[key] = value
    return values
