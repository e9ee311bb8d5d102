"""Every volunteering page speaks the chosen language only (Arabic by default, English after the switch),
apart from the data typed into it."""
import pytest

from bidi_check import bare_tokens
from test_i18n import ARABIC, LATIN_WORD, foreign_words, ui_text

DATA = ["مستخدم officer", "سعد المتطوع", "توصيل السلال الغذائية", "مستودع الجمعية", "ت-1448-000001"]


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_pages_speak_one_language(app, client, auth, lang, make_volunteer, make_opportunity, make_assignment):
    """... and in Arabic every phone number, ID, date and number stands in an isolate."""
    vol = make_volunteer(name="سعد المتطوع", national_id="1000000008")
    opp = make_opportunity(days=-1)
    future = make_opportunity(days=2)
    assign_id, token = make_assignment(opp, vol, "confirmed")
    auth.login("officer")
    if lang == "en":
        client.post("/language", data={"lang": "en", "next": "/"})
    client.post(f"/volunteering/assignments/{assign_id}/hours", data={"hours": "2"})
    pages = ["/volunteering/volunteers", f"/volunteering/volunteers/{vol}", "/volunteering/volunteers/new",
             f"/volunteering/volunteers/{vol}/edit", "/volunteering/opportunities", "/volunteering/opportunities/new",
             f"/volunteering/opportunities/{opp}", f"/volunteering/opportunities/{future}", "/volunteering/hours",
             f"/site/volunteering/{token}"]
    words = ARABIC if lang == "ar" else LATIN_WORD
    for url in pages:
        html = client.get(url).get_data(as_text=True)
        assert f'<html lang="{lang}"' in html, url
        leftovers = foreign_words(html, lang, DATA)
        assert not leftovers, (url, leftovers)
        assert words.search(ui_text(html, lang, DATA)), url
        if lang == "ar":
            assert bare_tokens(html) == [], url
