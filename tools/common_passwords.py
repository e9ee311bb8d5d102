"""Write portal/common_passwords.txt: passwords people pick first, built from well-known patterns
(common words and names, keyboard walks, digit runs, dates, local words), each with the usual
capitalisation-free suffixes. Run again after changing the word lists; the output is committed."""
from __future__ import annotations

from pathlib import Path

WORDS = """
password passw0rd p@ssword p@ssw0rd pass passwd secret letmein welcome welcome1 admin administrator root
user login master hello iloveyou love lovely loveyou princess dragon monkey football baseball soccer
basketball shadow sunshine superman batman spiderman starwars pokemon computer internet whatever trustno1
freedom qwerty qwertyuiop asdfgh asdfghjkl zxcvbn zxcvbnm azerty abc abcd abcde abcdef abcdefg abcdefgh
changeme default guest test tester testing temp temporary access office charity support service company
system server database portal sila manager officer staff member team family friends flower summer winter
spring autumn money cookie cheese chocolate coffee orange banana apple silver golden diamond killer hunter
ranger tigger jordan michael jennifer ashley jessica charlie thomas hannah daniel andrew joshua matthew
robert william george harley maggie buster ginger pepper snoopy mustang ferrari mercedes toyota nissan
samsung iphone google facebook twitter instagram whatsapp snapchat youtube microsoft windows linux
allah allahakbar bismillah alhamdulillah subhanallah inshallah mashallah islam muslim quran makkah mecca
makka madinah medina riyadh jeddah jedda taif dammam khobar abha tabuk saudi saudia ksa arabia alsaudia
mohammed mohamed muhammad mohammad ahmed ahmad ali omar umar abdullah abdulaziz abdulrahman khaled khalid
fahad faisal sultan salman nasser saad saud turki majed majid hamad yousef yusuf ibrahim ismail hassan
hussein hussain fatima fatimah aisha aishah noura nora sara sarah maryam mariam reem hind huda amal
layla laila nouf hala dana lama ghada asma hessa hayat
hilal nassr nasr ittihad ahli shabab vision vision2030 neom aramco stc mobily zain
jameya jamiya jamia markaz marakez ahya khair khayr zakat sadaqa
""".split()

WALKS = """
qwerty qwertyui qwertyuiop asdfgh asdfghjk asdfghjkl zxcvbn zxcvbnm qazwsx qazwsxedc 1qaz2wsx 1q2w3e
1q2w3e4r 1q2w3e4r5t 1q2w3e4r5t6y q1w2e3r4 qweasd qweasdzxc asdqwe zaq12wsx !qaz2wsx 1qazxsw2 qwer1234
asdf1234 zxcv1234 poiuytrewq lkjhgfdsa mnbvcxz 147258369 159357 159753 741852963 123qwe 123asd 123zxc
qwe123 asd123 zxc123 aaa111 abc123 abcd1234 a1b2c3 a1b2c3d4 aa123456 password1 iloveyou1
""".split()

SUFFIXES = ["", "1", "12", "123", "1234", "12345", "123456", "1234567", "12345678", "123456789", "!", "@",
            "#", "1!", "123!", "@123", "#123", "_123", "2020", "2021", "2022", "2023", "2024", "2025", "2026",
            "1447", "1446", "1445", "01", "007", "11", "22", "99", "00", "000", "786", "@2024", "@2025", "@2026"]


def digit_runs() -> set[str]:
    runs = set()
    for length in range(4, 17):
        runs.add("".join(str(i % 10) for i in range(1, length + 1)))  # 1234567890123...
        runs.add("".join(str(i % 10) for i in range(0, length)))  # 0123456789...
        runs.add("".join(str((10 - i) % 10) for i in range(1, length + 1)))  # 9876...
        for d in "0123456789":
            runs.add(d * length)
        for pair in ("12", "21", "11", "69", "00", "01", "10", "13", "14", "77", "88", "99"):
            runs.add((pair * length)[:length])
    for a in range(1, 10):
        runs.add(("123" * 6)[: 3 * a])
        runs.add("".join(str(i) for i in range(1, a + 1)) * 2)
    return runs


def dates() -> set[str]:
    out = set()
    for year in list(range(1950, 2031)) + list(range(1380, 1451)):
        for month in (1, 6, 12):
            for day in (1, 15):
                out.add(f"{day:02d}{month:02d}{year}")
                out.add(f"{year}{month:02d}{day:02d}")
        out.add(f"{year}{year}")
    return out


def build() -> list[str]:
    found: set[str] = set(WALKS) | digit_runs() | dates()
    for word in set(WORDS) | set(WALKS):
        for suffix in SUFFIXES:
            found.add(word + suffix)
        found.add(word + word)
        found.add(word[::-1])
        leet = word.replace("a", "@").replace("o", "0").replace("i", "1").replace("e", "3").replace("s", "$")
        for suffix in ("", "1", "123", "!", "2024", "2025"):
            found.add(leet + suffix)
    return sorted(p for p in found if len(p) >= 4)


if __name__ == "__main__":
    target = Path(__file__).resolve().parent.parent / "portal" / "common_passwords.txt"
    words = build()
    target.write_text("\n".join(words) + "\n", encoding="utf-8")
    print(f"{len(words)} passwords written to {target}")
