"""Counting SMS parts: GSM 7-bit (160 / 153) and UCS-2 (70 / 67)."""
import pytest

from plugins.sms.segments import count


@pytest.mark.parametrize("text, encoding, units, parts", [
    ("", "gsm7", 0, 1),
    ("a" * 160, "gsm7", 160, 1),
    ("a" * 161, "gsm7", 161, 2),
    ("a" * 306, "gsm7", 306, 2),
    ("a" * 307, "gsm7", 307, 3),
    ("{" * 80, "gsm7", 160, 1),  # extension characters take two septets
    ("{" * 81, "gsm7", 162, 2),
    ("ب" * 70, "ucs2", 70, 1),
    ("ب" * 71, "ucs2", 71, 2),
    ("ب" * 134, "ucs2", 134, 2),
    ("ب" * 135, "ucs2", 135, 3),
    ("ب" * 670, "ucs2", 670, 10),
    ("ب" * 671, "ucs2", 671, 11),
    ("Hello ب", "ucs2", 7, 1),  # one Arabic letter makes the whole text UCS-2
    ("😀" * 35, "ucs2", 70, 1),  # outside the BMP: two UTF-16 units each
    ("😀" * 36, "ucs2", 72, 2),
    ("\u2068000101-1448\u2069 رقم طلبك", "ucs2", 22, 1),  # isolates count like any character
])
def test_parts(text, encoding, units, parts):
    counted = count(text)
    assert (counted.encoding, counted.units, counted.parts) == (encoding, units, parts)


def test_cost_is_parts_times_price():
    assert count("ب" * 135).cost(0.05) == 0.15
    assert count("hi").cost(0.07) == 0.07
