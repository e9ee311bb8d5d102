"""The delegate's screens speak Arabic by default and English after the switch, nothing of the other."""
import pytest

from test_i18n import foreign_words


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_the_screens_speak_one_language(app, client, auth, users, taif_ben, lang):
    from portal.db import database
    from portal.models import Beneficiary, User

    with app.app_context(), database.connection_context():
        ben = Beneficiary.get_by_id(taif_ben)
        data = [ben.full_name, ben.file_number, ben.district, ben.city, ben.mobile,
                *(u.full_name for u in User.select())]
    auth.login("delegate")
    if lang == "en":
        client.post("/language", data={"lang": "en", "next": "/"})
    pages = ["/delegates/", f"/delegates/beneficiaries/{taif_ben}/visit", f"/delegates/beneficiaries/{taif_ben}/contact",
             "/delegates/plan", "/delegates/reports"]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        assert f'<html lang="{lang}"' in html
        assert not foreign_words(html, lang, data), (url, foreign_words(html, lang, data))
    refused = client.post(f"/delegates/beneficiaries/{taif_ben}/visit", data={"client_id": "x"})
    assert refused.status_code == 422
    assert not foreign_words(refused.get_data(as_text=True), lang, data)
