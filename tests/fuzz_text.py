"""Hypothesis strategies for "anything a visitor can type": shared by the form fuzz tests."""
from __future__ import annotations

from hypothesis import strategies as st

# The awkward cases, always in the mix: NUL and other control characters, direction marks and overrides,
# Arabic-Indic and other non-ASCII digits, lone combining marks, huge numbers, very long strings.
SPECIAL = [
    "", " ", "\x00", "a\x00b", "\x01\x02\x1b[31m", "\r\n\t", "\u200f", "\u202e\u0661\u0662\u202c", "\u2066x\u2069",
    "\ufeff", "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669", "\u06f1\u06f2\u06f3\u06f4",
    "\u0967\u0968\u0969", "\U0001d7d9\U0001d7da", "\u0301", "9" * 40, "-1", "1e308", "NaN",
    "0" * 10, "٠٥٠١٢٣٤٥٦٧", "+966501234567", "1000000008", "SR-1447-000001", "<script>alert(1)</script>",
    "' OR 1=1 --", "%s%(x)s{0}", "\U0001f600" * 50, "ا" * 5000, "x" * 100_000,
]

TEXT = st.one_of(
    st.sampled_from(SPECIAL),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=300),
    st.builds(lambda a, b: a + b, st.sampled_from(SPECIAL), st.text(max_size=40)),
)


def form_values(fields, valid=None):
    """A dict filling every field with arbitrary text; a field with a value in ``valid`` gets that valid
    value about half the time, so that one odd field among good ones reaches past the first check."""
    valid = valid or {}
    return st.fixed_dictionaries({
        name: st.one_of(st.just(valid[name]), TEXT) if name in valid else TEXT for name in fields})
