"""What a phone shows: references and phone numbers read left to right inside Arabic text (measured on
screen, not only in the markup), the footer's contact details with SVG icons within 360 px."""
from __future__ import annotations

import pytest
from website_helpers import app_config, types  # noqa: F401

from portal.db import database

from browser.conftest import (  # noqa: E402,F401
    base_url, browser_context_args, browser_type_launch_args, chromium_path, live_app, live_server,
)

pytestmark = pytest.mark.browser

# x of the first character of each substring, in the order they are given.
_POSITIONS = """([root, parts]) => {
  const el = document.querySelector(root);
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  const text = [];
  while (walker.nextNode()) text.push(walker.currentNode);
  return parts.map(part => {
    for (const node of text) {
      const at = node.data.indexOf(part);
      if (at >= 0) {
        const range = document.createRange();
        range.setStart(node, at); range.setEnd(node, at + 1);
        return range.getBoundingClientRect().left;
      }
    }
    return null;
  });
}"""


def test_numbers_read_left_to_right_in_arabic_on_a_phone(browser, live_server, app, types):
    from plugins.website.models import SiteContact

    with app.app_context(), database.connection_context():
        SiteContact.create(phone="+966 11 234 5678", address="الطائف، حي الشهداء",
                           hours="الأحد - الخميس", map_url="https://maps.example.org/?q=1")
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, locale="ar-SA")
    page = context.new_page()
    try:
        page.goto(live_server.url + "/site/track")
        page.wait_for_selector("#site-contact")
        # The example under the reference field: 1448 on the left of 000123, as typed.
        year, seq = page.evaluate(_POSITIONS, ["#h-reference", ["1448", "000123"]])
        assert year is not None and seq is not None and year < seq
        # The footer's phone: + on the left of 966, 966 on the left of 5678.
        plus, country, last = page.evaluate(_POSITIONS, ["#site-contact", ["+966", "966", "5678"]])
        assert plus < country < last
        icons = page.locator("#site-contact svg.icon")
        assert icons.count() >= 2 and icons.first.bounding_box()["width"] > 0
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        page.goto(live_server.url + "/site/")
        channel_cards = page.locator("ul.channels")
        cards = channel_cards.locator("svg")
        assert cards.count() == channel_cards.locator("li").count() >= 1
        assert cards.first.bounding_box()["height"] > 0
    finally:
        context.close()
